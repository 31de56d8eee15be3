package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MnistDigitsTest {

    static MnistDigits digits;

    @BeforeAll
    static void load() throws IOException {
        digits = MnistDigits.load(Path.of("resources/mnist"));
    }

    @Test
    void holdsTenThousandRealDigits() {
        assertEquals(10000, digits.size());
        assertArrayEquals(new int[]{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, digits.classCounts());
        // every digit has ink and background, values 0..255, and the accessors agree
        for (int i = 0; i < digits.size(); i += 97) {
            byte[] b = digits.imageBytes(i);
            int[] in = digits.imageInts(i);
            double[] d = digits.imageDoubles(i);
            int[][] in2 = digits.imageInts2d(i);
            int max = 0;
            int min = 255;
            for (int k = 0; k < 784; k++) {
                assertEquals(b[k] & 0xff, in[k]);
                assertEquals(in[k], d[k]);
                assertEquals(in[k], in2[k / 28][k % 28]);
                max = Math.max(max, in[k]);
                min = Math.min(min, in[k]);
            }
            assertEquals(0, min);
            assertTrue(max > 200, "digit " + i + " max " + max);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> digits.imageInts(10000));
    }

    @Test
    void splitIsDisjointCompleteAndBalanced() {
        MnistDigits.Split s = digits.split();
        assertEquals(7000, s.train().length);
        assertEquals(1000, s.validation().length);
        assertEquals(2000, s.test().length);
        int[] seen = new int[digits.size()];
        for (int[] part : new int[][]{s.train(), s.validation(), s.test()}) {
            for (int i : part) {
                seen[i]++;
            }
        }
        for (int i = 0; i < seen.length; i++) {
            assertEquals(1, seen[i], "digit " + i + " appears " + seen[i] + " times");
        }
        int[] counts = digits.classCounts();
        double[] fraction = {0.7, 0.1, 0.2};
        int[][] parts = {s.train(), s.validation(), s.test()};
        for (int p = 0; p < 3; p++) {
            int[] perClass = new int[10];
            for (int i : parts[p]) {
                perClass[digits.label(i)]++;
            }
            for (int c = 0; c < 10; c++) {
                double exact = fraction[p] * counts[c];
                assertTrue(Math.abs(perClass[c] - exact) < 2, "part " + p + " class " + c + ": " + perClass[c] + " vs " + exact);
            }
        }
    }

    @Test
    void splitIsIdenticalBetweenRunsAndDependsOnTheSeed() throws IOException {
        MnistDigits.Split a = digits.split();
        MnistDigits.Split b = MnistDigits.load(Path.of("resources/mnist")).split(MnistDigits.DEFAULT_SPLIT_SEED);
        assertArrayEquals(a.train(), b.train());
        assertArrayEquals(a.validation(), b.validation());
        assertArrayEquals(a.test(), b.test());
        // pinned: the split must not change between JVMs, versions or refactorings
        assertArrayEquals(new int[]{1, 8, 10, 26, 27, 28, 31, 33}, Arrays.copyOf(a.test(), 8));
        assertArrayEquals(new int[]{0, 32, 45, 84, 98, 137, 140, 150}, Arrays.copyOf(a.validation(), 8));
        assertEquals(184066501, Arrays.hashCode(a.train()));
        assertEquals(32404984, Arrays.hashCode(a.validation()));
        assertEquals(-316657218, Arrays.hashCode(a.test()));
        assertFalse(Arrays.equals(a.test(), digits.split(1L).test()));
    }

    @Test
    void apportionHitsTheTotalExactly() {
        int[] counts = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
        assertEquals(7000, Arrays.stream(MnistDigits.apportion(counts, 0.7)).sum());
        assertEquals(8000, Arrays.stream(MnistDigits.apportion(counts, 0.8)).sum());
        assertArrayEquals(new int[]{1, 1, 1}, MnistDigits.apportion(new int[]{1, 1, 1}, 1.0));
        assertEquals(2, Arrays.stream(MnistDigits.apportion(new int[]{1, 1, 1}, 0.7)).sum());
    }
}
