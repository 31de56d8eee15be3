package org.deepscm.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** A parameter set owns what it stores. */
class ParameterSetTest {
  @Test
  void aStoredParameterIsACopyNotAnAliasOfTheValuesGiven() {
    try (NDManager base = NDManager.newBaseManager()) {
      ParameterSet p = new ParameterSet(base);
      NDArray values = base.create(new float[] {1, 2, 3});
      p.put("w", values);
      values.addi(10);
      assertArrayEquals(new float[] {1, 2, 3}, p.get("w").toFloatArray());
    }
  }

  @Test
  void valuesFromAClosedManagerStayIntactAndCanBeStepped() {
    try (NDManager base = NDManager.newBaseManager()) {
      ParameterSet p = new ParameterSet(base);
      float[] pixels = new float[64 * 64];
      for (int k = 0; k < pixels.length; k++) {
        pixels[k] = k % 251;
      }
      try (NDManager scope = base.newSubManager()) {
        p.put("template", scope.create(pixels, new Shape(1, 64, 64)));
      }
      // the closed scope's Java-backed memory is free for the JVM to reuse
      for (int round = 0; round < 5; round++) {
        System.gc();
        try (NDManager other = base.newSubManager()) {
          other.create(new float[pixels.length]).addi(7);
        }
      }
      p.get("template").subi(1);
      float[] expected = new float[pixels.length];
      for (int k = 0; k < pixels.length; k++) {
        expected[k] = pixels[k] - 1;
      }
      assertArrayEquals(expected, p.get("template").toFloatArray());
    }
  }
}
