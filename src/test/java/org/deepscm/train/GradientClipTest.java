package org.deepscm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A spike in the gradient's norm moves the weights no further than an ordinary step. */
class GradientClipTest {
  @Test
  void aSpikeIsScaledToTheLimitAndOrdinaryStepsAreNot() {
    DeformationTrainer.GradientClip clip = new DeformationTrainer.GradientClip();
    // during the warm-up nothing is clipped, however large
    assertEquals(1, clip.factor(1000), 0);
    for (int s = 1; s < DeformationTrainer.GradientClip.WARM_UP + 600; s++) {
      assertEquals(1, clip.factor(2), 0, "step " + s);
    }
    // the running mean is near 2 by now (the warm-up's 1000 is forgotten): a norm of 400 is kept near 5 x 2
    double kept = 400 * clip.factor(400);
    assertTrue(kept > DeformationTrainer.GradientClip.LIMIT * 2 && kept < DeformationTrainer.GradientClip.LIMIT * 2.2,
        "a spike of 400 kept at " + kept);
    assertEquals(1, clip.clipped());
    assertEquals(1, clip.factor(2.5), 0, "the next ordinary step is left alone");
    assertEquals(1, clip.clipped());
  }
}
