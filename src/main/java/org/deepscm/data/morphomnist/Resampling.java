package org.deepscm.data.morphomnist;

/**
 * Up- and down-sampling of square-pixel grey images stored row-major in {@code double[]}.
 *
 * <p>Geometry: pixel {@code k} of an image covers [k, k+1) in its own pixel units and its value sits at the
 * centre k + 0.5. Upsampling by an integer factor s maps output pixel j to input coordinate
 * (j + 0.5) / s - 0.5 (centres aligned, as skimage's resize does); downsampling by s averages each s x s
 * block (area averaging), the exact inverse geometry.
 */
final class Resampling {

    private Resampling() {
    }

    /** Interpolation kernels for {@link #upsample}. */
    enum Kernel {
        /** Linear interpolation (support 2). */
        BILINEAR,
        /** Keys cubic convolution with a = -0.5 (support 4): interpolating, C1, can overshoot by a few %. */
        BICUBIC
    }

    /** Upsamples a {@code w x h} image by the integer factor {@code s}; edges are extended by replication. */
    static double[] upsample(double[] img, int w, int h, int s, Kernel kernel) {
        int W = w * s;
        int H = h * s;
        Taps tx = taps(w, s, kernel);
        Taps ty = taps(h, s, kernel);
        int n = tx.n;
        // rows first: h x W
        double[] tmp = new double[h * W];
        for (int r = 0; r < h; r++) {
            int rowOff = r * w;
            int outOff = r * W;
            for (int j = 0; j < W; j++) {
                double acc = 0;
                int b = j * n;
                for (int t = 0; t < n; t++) {
                    acc += tx.weight[b + t] * img[rowOff + tx.index[b + t]];
                }
                tmp[outOff + j] = acc;
            }
        }
        // then columns: H x W
        double[] out = new double[H * W];
        for (int i = 0; i < H; i++) {
            int b = i * n;
            int outOff = i * W;
            for (int t = 0; t < n; t++) {
                double wt = ty.weight[b + t];
                if (wt == 0) {
                    continue;
                }
                int srcOff = ty.index[b + t] * W;
                for (int j = 0; j < W; j++) {
                    out[outOff + j] += wt * tmp[srcOff + j];
                }
            }
        }
        return out;
    }

    /** Averages each {@code s x s} block of a {@code W x H} image (W, H multiples of s). */
    static double[] downsampleArea(double[] img, int W, int H, int s) {
        int w = W / s;
        int h = H / s;
        double[] out = new double[w * h];
        for (int i = 0; i < H; i++) {
            int o = (i / s) * w;
            int off = i * W;
            for (int j = 0; j < W; j++) {
                out[o + j / s] += img[off + j];
            }
        }
        double inv = 1.0 / (s * s);
        for (int k = 0; k < out.length; k++) {
            out[k] *= inv;
        }
        return out;
    }

    /** Same for a binary image: the fraction of foreground pixels in each block. */
    static double[] downsampleArea(boolean[] mask, int W, int H, int s) {
        int w = W / s;
        int h = H / s;
        int[] count = new int[w * h];
        for (int i = 0; i < H; i++) {
            int o = (i / s) * w;
            int off = i * W;
            for (int j = 0; j < W; j++) {
                if (mask[off + j]) {
                    count[o + j / s]++;
                }
            }
        }
        double[] out = new double[w * h];
        double inv = 1.0 / (s * s);
        for (int k = 0; k < out.length; k++) {
            out[k] = count[k] * inv;
        }
        return out;
    }

    private record Taps(int n, int[] index, double[] weight) {
    }

    private static Taps taps(int len, int s, Kernel kernel) {
        int n = kernel == Kernel.BICUBIC ? 4 : 2;
        int out = len * s;
        int[] index = new int[out * n];
        double[] weight = new double[out * n];
        for (int j = 0; j < out; j++) {
            double x = (j + 0.5) / s - 0.5;
            int x0 = (int) Math.floor(x);
            double t = x - x0;
            int b = j * n;
            if (kernel == Kernel.BILINEAR) {
                index[b] = clamp(x0, len);
                index[b + 1] = clamp(x0 + 1, len);
                weight[b] = 1 - t;
                weight[b + 1] = t;
            } else {
                for (int k = 0; k < 4; k++) {
                    index[b + k] = clamp(x0 - 1 + k, len);
                    weight[b + k] = keys(t - (k - 1));
                }
            }
        }
        return new Taps(n, index, weight);
    }

    private static int clamp(int i, int len) {
        return i < 0 ? 0 : Math.min(i, len - 1);
    }

    /** Keys (1981) cubic convolution kernel, a = -0.5. */
    private static double keys(double x) {
        final double a = -0.5;
        double ax = Math.abs(x);
        if (ax <= 1) {
            return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
        }
        if (ax < 2) {
            return ((a * ax - 5 * a) * ax + 8 * a) * ax - 4 * a;
        }
        return 0;
    }
}
