package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SkeletonTest {

    static final int N = 28 * Morphology.MEASURE_SCALE;

    static int count(boolean[] m) {
        int c = 0;
        for (boolean b : m) {
            c += b ? 1 : 0;
        }
        return c;
    }

    /** Number of 8-connected components. */
    static int components(boolean[] m, int w, int h) {
        boolean[] seen = new boolean[m.length];
        int comps = 0;
        for (int s = 0; s < m.length; s++) {
            if (!m[s] || seen[s]) {
                continue;
            }
            comps++;
            ArrayDeque<Integer> q = new ArrayDeque<>();
            q.add(s);
            seen[s] = true;
            while (!q.isEmpty()) {
                int k = q.poll();
                int x = k % w;
                int y = k / w;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx;
                        int yy = y + dy;
                        if (xx >= 0 && yy >= 0 && xx < w && yy < h && m[yy * w + xx] && !seen[yy * w + xx]) {
                            seen[yy * w + xx] = true;
                            q.add(yy * w + xx);
                        }
                    }
                }
            }
        }
        return comps;
    }

    /** True if some 2x2 block is entirely skeleton (the skeleton is then not one pixel wide there). */
    static boolean hasFilled2x2(boolean[] m, int w, int h) {
        for (int y = 0; y + 1 < h; y++) {
            for (int x = 0; x + 1 < w; x++) {
                if (m[y * w + x] && m[y * w + x + 1] && m[(y + 1) * w + x] && m[(y + 1) * w + x + 1]) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void assertThinConnectedInside(boolean[] mask, boolean[] skel, String what) {
        assertTrue(count(skel) > 0, what + ": empty skeleton");
        assertEquals(1, components(skel, N, N), what + ": skeleton not connected");
        assertFalse(hasFilled2x2(skel, N, N), what + ": skeleton has a 2x2 block");
        for (int k = 0; k < skel.length; k++) {
            assertTrue(!skel[k] || mask[k], what + ": skeleton pixel outside the mask");
        }
    }

    @Test
    void horizontalBarSkeletonIsOnePixelWideConnectedAndCentred() {
        for (double w : new double[]{2, 3, 4}) {
            boolean[] mask = Morphology.binarise(Strokes.horizontalBar(4, 24, 14, w), Morphology.MEASURE_SCALE);
            boolean[] skel = Skeleton.zhangSuen(mask, N, N);
            assertThinConnectedInside(mask, skel, "bar w=" + w);
            int minX = N;
            int maxX = -1;
            for (int k = 0; k < skel.length; k++) {
                if (skel[k]) {
                    int x = k % N;
                    int y = k / N;
                    minX = Math.min(minX, x);
                    maxX = Math.max(maxX, x);
                    // bar spans rows [4(14 - w/2), 4(14 + w/2)): centre rows 55 and 56; short end spurs allowed
                    if (x > 16 + 4 * w && x < 96 - 4 * w) {
                        assertTrue(y == 55 || y == 56, "w=" + w + ": skeleton pixel at row " + y);
                    }
                }
            }
            assertTrue(maxX - minX >= 80 - 4 * 4 * w / 2 - 4, "w=" + w + ": skeleton spans only " + (maxX - minX));
            // each interior column holds exactly one skeleton pixel: one pixel wide across the stroke
            for (int x = 16 + (int) (4 * w); x < 96 - 4 * w; x++) {
                int c = 0;
                for (int y = 0; y < N; y++) {
                    c += skel[y * N + x] ? 1 : 0;
                }
                assertEquals(1, c, "w=" + w + " column " + x);
            }
        }
    }

    @Test
    void diagonalBarAndRingSkeletonsAreThinAndConnected() {
        boolean[] bar = Morphology.binarise(Strokes.bar(5, 6, 22, 21, 3), Morphology.MEASURE_SCALE);
        assertThinConnectedInside(bar, Skeleton.zhangSuen(bar, N, N), "diagonal bar");
        boolean[] ring = Morphology.binarise(Strokes.ring(14, 14, 8, 3), Morphology.MEASURE_SCALE);
        boolean[] skel = Skeleton.zhangSuen(ring, N, N);
        assertThinConnectedInside(ring, skel, "ring");
        // a closed curve: removing the skeleton leaves the inside and the outside apart
        boolean[] rest = new boolean[skel.length];
        for (int k = 0; k < rest.length; k++) {
            rest[k] = !skel[k];
        }
        assertTrue(components4(rest, N, N) >= 2, "ring skeleton is not a closed loop");
    }

    private static int components4(boolean[] m, int w, int h) {
        boolean[] seen = new boolean[m.length];
        int comps = 0;
        for (int s = 0; s < m.length; s++) {
            if (!m[s] || seen[s]) {
                continue;
            }
            comps++;
            ArrayDeque<Integer> q = new ArrayDeque<>();
            q.add(s);
            seen[s] = true;
            while (!q.isEmpty()) {
                int k = q.poll();
                int x = k % w;
                int y = k / w;
                int[][] nb = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
                for (int[] d : nb) {
                    int xx = x + d[0];
                    int yy = y + d[1];
                    if (xx >= 0 && yy >= 0 && xx < w && yy < h && m[yy * w + xx] && !seen[yy * w + xx]) {
                        seen[yy * w + xx] = true;
                        q.add(yy * w + xx);
                    }
                }
            }
        }
        return comps;
    }

    @Test
    void onePixelLineIsItsOwnSkeleton() {
        boolean[] m = new boolean[10 * 10];
        for (int x = 1; x < 9; x++) {
            m[5 * 10 + x] = true;
        }
        boolean[] s = Skeleton.zhangSuen(m, 10, 10);
        org.junit.jupiter.api.Assertions.assertArrayEquals(m, s, "a one-pixel line is its own skeleton");
    }
}
