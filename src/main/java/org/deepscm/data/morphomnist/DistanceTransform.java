package org.deepscm.data.morphomnist;

/**
 * Exact Euclidean distance transform of a binary image (Felzenszwalb and Huttenlocher, "Distance
 * Transforms of Sampled Functions", Theory of Computing 2012): two passes of the 1-D lower envelope of
 * parabolas, O(pixels).
 *
 * <p>Distances are between pixel centres, as scipy's {@code distance_transform_edt}: a foreground pixel
 * next to the background has distance 1, a background pixel has distance 0. Pixels outside the image
 * are not background. If the image has no background pixel at all, every distance is +Infinity.
 */
public final class DistanceTransform {

    private static final double INF = 1e20;

    private DistanceTransform() {
    }

    /**
     * Squared Euclidean distance of each pixel to the nearest pixel where {@code foreground} is false
     * (0 on the background). Exact: the values are integers stored as doubles.
     *
     * @param foreground row-major, {@code width * height} values
     */
    public static double[] squaredDistanceToBackground(boolean[] foreground, int width, int height) {
        if (foreground == null || width <= 0 || height <= 0 || foreground.length != width * height) {
            throw new IllegalArgumentException("mask must hold width*height = " + width + "*" + height + " values");
        }
        int n = Math.max(width, height);
        double[] f = new double[n];
        double[] d = new double[n];
        int[] v = new int[n];
        double[] z = new double[n + 1];
        double[] out = new double[width * height];
        boolean anyBackground = false;
        for (int k = 0; k < out.length; k++) {
            out[k] = foreground[k] ? INF : 0;
            anyBackground |= !foreground[k];
        }
        if (!anyBackground) {
            java.util.Arrays.fill(out, Double.POSITIVE_INFINITY);
            return out;
        }
        // columns
        for (int x = 0; x < width; x++) {
            for (int y = 0; y < height; y++) {
                f[y] = out[y * width + x];
            }
            envelope(f, height, d, v, z);
            for (int y = 0; y < height; y++) {
                out[y * width + x] = d[y];
            }
        }
        // rows
        for (int y = 0; y < height; y++) {
            int off = y * width;
            System.arraycopy(out, off, f, 0, width);
            envelope(f, width, d, v, z);
            System.arraycopy(d, 0, out, off, width);
        }
        return out;
    }

    /** Euclidean distance of each pixel to the nearest background pixel (square root of the above). */
    public static double[] distanceToBackground(boolean[] foreground, int width, int height) {
        double[] d2 = squaredDistanceToBackground(foreground, width, height);
        for (int k = 0; k < d2.length; k++) {
            d2[k] = Math.sqrt(d2[k]);
        }
        return d2;
    }

    /** 1-D squared distance transform of the sampled function f[0..n): d[q] = min_p (q-p)^2 + f[p]. */
    private static void envelope(double[] f, int n, double[] d, int[] v, double[] z) {
        int k = 0;
        v[0] = 0;
        z[0] = Double.NEGATIVE_INFINITY;
        z[1] = Double.POSITIVE_INFINITY;
        for (int q = 1; q < n; q++) {
            if (f[q] >= INF) {
                continue; // a parabola at infinity never enters the envelope
            }
            if (f[v[0]] >= INF) {
                v[0] = q; // envelope so far holds only infinite parabolas
                continue;
            }
            double s;
            while (true) {
                int p = v[k];
                s = ((f[q] + (double) q * q) - (f[p] + (double) p * p)) / (2.0 * (q - p));
                if (s <= z[k] && k > 0) {
                    k--;
                } else {
                    break;
                }
            }
            k++;
            v[k] = q;
            z[k] = s;
            z[k + 1] = Double.POSITIVE_INFINITY;
        }
        if (f[v[0]] >= INF) {
            for (int q = 0; q < n; q++) {
                d[q] = INF;
            }
            return;
        }
        k = 0;
        for (int q = 0; q < n; q++) {
            while (z[k + 1] < q) {
                k++;
            }
            double dq = q - v[k];
            d[q] = dq * dq + f[v[k]];
        }
    }
}
