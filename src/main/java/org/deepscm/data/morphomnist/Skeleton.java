package org.deepscm.data.morphomnist;

/**
 * Zhang-Suen thinning (T.Y. Zhang and C.Y. Suen, "A fast parallel algorithm for thinning digital
 * patterns", CACM 1984), the algorithm behind skimage's {@code skeletonize} that Morpho-MNIST uses.
 *
 * <p>Neighbours of P1, clockwise from north: P2 = N, P3 = NE, P4 = E, P5 = SE, P6 = S, P7 = SW, P8 = W,
 * P9 = NW. Each iteration has two parallel sub-iterations; a foreground pixel is deleted when
 * 2 <= B(P1) <= 6 (B: number of foreground neighbours), A(P1) = 1 (A: 0 -> 1 transitions in the cyclic
 * sequence P2..P9, P2), and P2*P4*P6 = 0 and P4*P6*P8 = 0 (first sub-iteration) or P2*P4*P8 = 0 and
 * P2*P6*P8 = 0 (second). It stops when nothing changes. Pixels outside the image count as background.
 * Known property of the plain algorithm: an isolated 2x2 square vanishes; strokes of the up-scaled digits
 * that Morphology thins are at least a few pixels wide, so this does not arise there.
 */
public final class Skeleton {

    /** Bit i of the neighbourhood code is P(i+2): bit 0 = N, 1 = NE, 2 = E, ..., 7 = NW. */
    private static final boolean[] DELETE_FIRST = new boolean[256];
    private static final boolean[] DELETE_SECOND = new boolean[256];

    static {
        for (int code = 0; code < 256; code++) {
            int[] p = new int[10]; // p[2..9]
            int b = 0;
            for (int i = 0; i < 8; i++) {
                p[i + 2] = (code >> i) & 1;
                b += p[i + 2];
            }
            int a = 0;
            for (int i = 2; i <= 9; i++) {
                int next = i == 9 ? p[2] : p[i + 1];
                if (p[i] == 0 && next == 1) {
                    a++;
                }
            }
            boolean base = b >= 2 && b <= 6 && a == 1;
            DELETE_FIRST[code] = base && p[2] * p[4] * p[6] == 0 && p[4] * p[6] * p[8] == 0;
            DELETE_SECOND[code] = base && p[2] * p[4] * p[8] == 0 && p[2] * p[6] * p[8] == 0;
        }
    }

    private Skeleton() {
    }

    /** Thins a binary image (row-major, {@code width * height}); returns a new mask, the input is unchanged. */
    public static boolean[] zhangSuen(boolean[] foreground, int width, int height) {
        if (foreground == null || width <= 0 || height <= 0 || foreground.length != width * height) {
            throw new IllegalArgumentException("mask must hold width*height = " + width + "*" + height + " values");
        }
        int pw = width + 2;
        byte[] g = new byte[pw * (height + 2)];
        int count = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (foreground[y * width + x]) {
                    g[(y + 1) * pw + x + 1] = 1;
                    count++;
                }
            }
        }
        int[] live = new int[count];
        int n = 0;
        for (int k = 0; k < g.length; k++) {
            if (g[k] != 0) {
                live[n++] = k;
            }
        }
        int[] del = new int[count];
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int sub = 0; sub < 2; sub++) {
                boolean[] lut = sub == 0 ? DELETE_FIRST : DELETE_SECOND;
                int nd = 0;
                for (int i = 0; i < n; i++) {
                    int k = live[i];
                    int code = g[k - pw] | g[k - pw + 1] << 1 | g[k + 1] << 2 | g[k + pw + 1] << 3
                            | g[k + pw] << 4 | g[k + pw - 1] << 5 | g[k - 1] << 6 | g[k - pw - 1] << 7;
                    if (lut[code]) {
                        del[nd++] = k;
                    }
                }
                if (nd > 0) {
                    changed = true;
                    for (int i = 0; i < nd; i++) {
                        g[del[i]] = 0;
                    }
                    int m = 0;
                    for (int i = 0; i < n; i++) {
                        if (g[live[i]] != 0) {
                            live[m++] = live[i];
                        }
                    }
                    n = m;
                }
            }
        }
        boolean[] out = new boolean[width * height];
        for (int i = 0; i < n; i++) {
            int k = live[i];
            out[(k / pw - 1) * width + (k % pw - 1)] = true;
        }
        return out;
    }
}
