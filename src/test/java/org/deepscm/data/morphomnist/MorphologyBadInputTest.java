package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MorphologyBadInputTest {

    static final double[] RING = Strokes.ring(14, 14, 8, 3);

    private static void expect(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }

    /** Every operation, on one image. */
    private static void expectAll(String fragment, double[] image) {
        expect(fragment, () -> Morphology.measureThickness(image));
        expect(fragment, () -> Morphology.measureIntensity(image));
        expect(fragment, () -> Morphology.setThickness(image, 2));
        expect(fragment, () -> Morphology.setThickness(image, 2, Morphology.ThicknessMode.ONE_SHOT));
        expect(fragment, () -> Morphology.setIntensity(image, 100));
        expect(fragment, () -> Morphology.analyseThickness(image));
    }

    @Test
    void nullImage() {
        expectAll("image is null", null);
        expect("image is null", () -> Morphology.measureThickness((double[][]) null));
        expect("image is null", () -> Morphology.setIntensity((double[][]) null, 10));
    }

    @Test
    void wrongSize() {
        expectAll("image has 783 values, expected 784 (28x28)", new double[783]);
        expectAll("image has 785 values, expected 784 (28x28)", new double[785]);
        expectAll("image has 0 values", new double[0]);
        expect("image has 27 rows, expected 28x28", () -> Morphology.measureThickness(new double[27][28]));
        double[][] ragged = Morphology.unflatten(RING);
        ragged[5] = new double[29];
        expect("image row 5 has 29 values, expected 28x28", () -> Morphology.measureIntensity(ragged));
        ragged[5] = null;
        expect("image row 5 is null", () -> Morphology.setThickness(ragged, 2));
    }

    @Test
    void nonFinitePixels() {
        for (double bad : new double[]{Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            double[] img = RING.clone();
            img[3 * 28 + 7] = bad;
            expectAll("image pixel (row 3, column 7) is " + bad, img);
        }
    }

    @Test
    void noForeground() {
        expectAll("image has no foreground: all 784 pixels equal 0.0", new double[784]);
        double[] full = new double[784];
        Arrays.fill(full, 255);
        expectAll("image has no foreground: all 784 pixels equal 255.0", full);
    }

    @Test
    void badThicknessTargets() {
        for (double t : new double[]{0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0}) {
            expect("target thickness must be finite and > 0, got " + t, () -> Morphology.setThickness(RING, t));
            expect("target thickness must be finite and > 0", () -> Morphology.setThickness(RING, t,
                    Morphology.ThicknessMode.ONE_SHOT));
        }
        expect("thickness mode is null", () -> Morphology.setThickness(RING, 2, null));
        assertDoesNotThrow(() -> Morphology.setThickness(RING, 0.8));
    }

    @Test
    void badIntensityTargets() {
        for (double i : new double[]{0, -5, 255.0001, 300, Double.NaN, Double.POSITIVE_INFINITY}) {
            expect("target intensity must be in (0, 255], got " + i, () -> Morphology.setIntensity(RING, i));
        }
        assertDoesNotThrow(() -> Morphology.setIntensity(RING, 255));
        assertDoesNotThrow(() -> Morphology.setIntensity(RING, 0.5));
    }

    @Test
    void inputIsNotModified() {
        double[] img = RING.clone();
        Morphology.measureThickness(img);
        Morphology.setThickness(img, 5);
        Morphology.setIntensity(img, 90);
        org.junit.jupiter.api.Assertions.assertArrayEquals(RING, img);
    }
}
