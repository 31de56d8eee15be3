package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DistanceTransformTest {

    private static double bruteForce(boolean[] fg, int w, int h, int x, int y) {
        if (!fg[y * w + x]) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < w; xx++) {
                if (!fg[yy * w + xx]) {
                    best = Math.min(best, (double) (x - xx) * (x - xx) + (double) (y - yy) * (y - yy));
                }
            }
        }
        return best;
    }

    @Test
    void matchesBruteForceOnRandomImages() {
        Random rng = new Random(42);
        int cases = 0;
        for (int trial = 0; trial < 60; trial++) {
            int w = 1 + rng.nextInt(40);
            int h = 1 + rng.nextInt(40);
            double density = new double[]{0.5, 0.9, 0.99, 0.999}[trial % 4];
            boolean[] fg = new boolean[w * h];
            boolean anyBg = false;
            for (int k = 0; k < fg.length; k++) {
                fg[k] = rng.nextDouble() < density;
                anyBg |= !fg[k];
            }
            if (!anyBg) {
                fg[rng.nextInt(fg.length)] = false;
            }
            double[] d2 = DistanceTransform.squaredDistanceToBackground(fg, w, h);
            double[] d = DistanceTransform.distanceToBackground(fg, w, h);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double expected = bruteForce(fg, w, h, x, y);
                    assertEquals(expected, d2[y * w + x], 0.0, "w=" + w + " h=" + h + " at (" + x + "," + y + ")");
                    assertEquals(Math.sqrt(expected), d[y * w + x], 1e-12);
                    cases++;
                }
            }
        }
        assertTrue(cases > 10000);
    }

    @Test
    void singleBackgroundPixelGivesEuclideanDistances() {
        int w = 9;
        int h = 7;
        boolean[] fg = new boolean[w * h];
        java.util.Arrays.fill(fg, true);
        fg[3 * w + 2] = false;
        double[] d = DistanceTransform.distanceToBackground(fg, w, h);
        assertEquals(0, d[3 * w + 2], 0);
        assertEquals(Math.hypot(6, 3), d[0 * w + 8], 1e-12);
        assertEquals(Math.hypot(2, 3), d[6 * w + 0], 1e-12);
    }

    @Test
    void noBackgroundGivesInfinityAndBadShapesThrow() {
        boolean[] fg = new boolean[12];
        java.util.Arrays.fill(fg, true);
        for (double v : DistanceTransform.squaredDistanceToBackground(fg, 3, 4)) {
            assertEquals(Double.POSITIVE_INFINITY, v);
        }
        assertThrows(IllegalArgumentException.class, () -> DistanceTransform.squaredDistanceToBackground(fg, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> DistanceTransform.squaredDistanceToBackground(null, 1, 1));
    }
}
