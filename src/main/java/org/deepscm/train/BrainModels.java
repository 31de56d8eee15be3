package org.deepscm.train;

import org.deepscm.image.ImageArchitecture;
import org.deepscm.scm.Variable;

/**
 * The brain SCM of the paper's UK Biobank experiment (Appendix B; reference-implementation.md):
 *
 * <pre>
 *   sex -> brain_volume <- age -> ventricle_volume <- brain_volume;  brain_volume, ventricle_volume -> x
 * </pre>
 *
 * sex: Gumbel-max with a learned logit; age: Spline -> normalised log -> exp; each volume: conditional
 * affine with a context network (2 -> 8 -> 16, LeakyReLU 0.1) -> normalised log -> exp; the image:
 * the amortised explicit mechanism on 64 x 64 slices whose decoder sees z and the two volumes only
 * (as the reference's): age and sex reach the image only through them, as in our true SCM.
 */
public final class BrainModels {
  /** Context networks of the two volumes: 2 -> 8 -> 16 -> 2, as the reference's DenseNN. */
  public static final Integer[] VOLUME_CONTEXT_HIDDEN = {8, 16};

  private BrainModels() {}

  public static Variable sex() {
    return Variable.binary("sex", "female", "male");
  }

  public static Variable age() {
    return Variable.positive("age", "years");
  }

  public static Variable brainVolume() {
    return Variable.positive("brain_volume", "ml");
  }

  public static Variable ventricleVolume() {
    return Variable.positive("ventricle_volume", "ml");
  }

  public static Variable image() {
    return Variable.image("x", 64, 64);
  }

  /**
   * The image networks for 64 x 64 slices on this CPU: the encoder/decoder structure of the
   * Morpho-MNIST model (two stride-2 scales) widened to z in R^64. The reference's deeper brain
   * networks (five scales, three convolutions each, z in R^100) are the next step (the brain model
   * issue); this one makes training possible now and is what `train --dataset brain` uses.
   */
  public static ImageArchitecture imageArchitecture() {
    return new ImageArchitecture(1, 64, 64, 64, 32, 64, 256, 128, 256, 32, 32);
  }

  public static ScmBuilder builder(boolean withImage) {
    ScmBuilder b = new ScmBuilder()
        .variable(sex())
        .variable(age())
        .variable(brainVolume(), "sex", "age")
        .variable(ventricleVolume(), "age", "brain_volume")
        .hidden("brain_volume", VOLUME_CONTEXT_HIDDEN)
        .hidden("ventricle_volume", VOLUME_CONTEXT_HIDDEN);
    if (withImage) {
      b.variable(image(), "brain_volume", "ventricle_volume").imageArchitecture(imageArchitecture());
    }
    return b;
  }
}
