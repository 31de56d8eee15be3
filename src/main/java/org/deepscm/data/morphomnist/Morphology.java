package org.deepscm.data.morphomnist;

/**
 * Morpho-MNIST morphometrics and perturbations (Castro et al., "Morpho-MNIST: Quantitative Assessment
 * and Diagnostics for Representation Learning", JMLR 2019) on 28x28 grey images, values 0..255,
 * given row-major as {@code double[784]} or as {@code double[28][28]}. All methods are pure and
 * thread-safe; they never modify their input.
 *
 * <ul>
 *   <li>{@link #measureThickness}: upsample 4x, binarise at half the min-max range, skeletonise
 *       (Zhang-Suen), mean over skeleton pixels of 2 x Euclidean distance to the background, / 4.</li>
 *   <li>{@link #measureIntensity}: median of the pixels &gt;= min + 0.5 (max - min), original resolution.</li>
 *   <li>{@link #setThickness}: binarise at 16x, dilate or erode with a disk of radius
 *       floor(16 |target - measured| / 2) (Morpho-MNIST, {@link ThicknessMode#ONE_SHOT}), by default then
 *       refined by re-measuring ({@link ThicknessMode#CALIBRATED}); area-average back to 28x28.</li>
 *   <li>{@link #setIntensity}: scale the image so that the foreground median equals the target; clamp.</li>
 * </ul>
 *
 * <p>Accuracy (see the tests): axis-aligned bars of width 2..4 measure exactly; other orientations and
 * curves carry up to ~0.2 px of bias from the pixel lattice (distance to background pixel centres) and from
 * the Zhang-Suen skeleton, as Morpho-MNIST's definition does. Note that SetIntensity that clamps at 255
 * changes the min-max threshold and so the measured thickness of thin strokes.
 *
 * <p>Upsampling is bicubic (Keys cubic convolution, a = -0.5; Morpho-MNIST uses skimage's order-3
 * spline in {@code pyramid_expand}). The binarisation threshold is taken from the min-max range of the
 * 28x28 input (not of the upsampled image), so that the cubic's small overshoot at edges does not move
 * it, and so that the binary mask agrees with the foreground mask of {@link #measureIntensity}.
 *
 * <p>Invalid input throws {@link IllegalArgumentException} naming the problem: a null image, an image
 * that is not 28x28 / 784 values, a NaN or infinite pixel, an image with no foreground (all pixels equal),
 * a target thickness that is not finite and &gt; 0, a target intensity outside (0, 255].
 */
public final class Morphology {

    public static final int SIDE = 28;
    public static final int PIXELS = SIDE * SIDE;
    /** Upscale factor of the thickness measurement. */
    public static final int MEASURE_SCALE = 4;
    /** Upscale factor at which setThickness dilates or erodes. */
    public static final int MORPH_SCALE = 16;
    /** Binarisation threshold as a fraction of the min-max range. */
    public static final double THRESHOLD = 0.5;

    static final Resampling.Kernel KERNEL = Resampling.Kernel.BICUBIC;

    private Morphology() {
    }

    // ------------------------------------------------------------------ measuring

    /** Mean stroke thickness in pixels (of the 28x28 image). */
    public static double measureThickness(double[] image) {
        return analyseThickness(image).thickness();
    }

    /** Mean stroke thickness in pixels, for an image given as 28 rows of 28 values. */
    public static double measureThickness(double[][] image) {
        return measureThickness(flatten(image));
    }

    /**
     * The intermediate results of the thickness measurement, e.g. for drawing the skeleton over a digit.
     * Arrays are {@code (28 scale) x (28 scale)}, row-major.
     *
     * @param scale     the upscale factor ({@link #MEASURE_SCALE})
     * @param mask      the binarised upsampled image
     * @param skeleton  the Zhang-Suen skeleton of the mask
     * @param distance  Euclidean distance of each pixel to the nearest background pixel, in upsampled pixels
     * @param thickness mean of 2 x distance over the skeleton, / scale
     */
    public record ThicknessAnalysis(int scale, boolean[] mask, boolean[] skeleton, double[] distance,
                                    double thickness) {
    }

    /** Measures the thickness and returns the intermediate images as well. */
    public static ThicknessAnalysis analyseThickness(double[] image) {
        double[] range = validate(image);
        int s = MEASURE_SCALE;
        int n = SIDE * s;
        boolean[] mask = binariseUpsampled(image, range, s);
        double[] dist = DistanceTransform.distanceToBackground(mask, n, n);
        if (Double.isInfinite(dist[0]) || dist[0] > 1e10) {
            throw new IllegalArgumentException("image has no background at " + s + "x resolution");
        }
        boolean[] skel = Skeleton.zhangSuen(mask, n, n);
        double sum = 0;
        int count = 0;
        for (int k = 0; k < skel.length; k++) {
            if (skel[k]) {
                sum += dist[k];
                count++;
            }
        }
        if (count == 0) {
            // Thinning erased everything (only possible for a blob of ~2x2 upsampled pixels): take the
            // most interior pixels as the medial axis.
            double max = 0;
            for (double d : dist) {
                max = Math.max(max, d);
            }
            for (int k = 0; k < dist.length; k++) {
                if (dist[k] == max && max > 0) {
                    skel[k] = true;
                    sum += dist[k];
                    count++;
                }
            }
        }
        return new ThicknessAnalysis(s, mask, skel, dist, 2.0 * sum / count / s);
    }

    /** Median of the foreground pixels (those &gt;= min + 0.5 (max - min)), in the image's units. */
    public static double measureIntensity(double[] image) {
        double[] range = validate(image);
        return foregroundMedian(image, threshold(range));
    }

    /** {@link #measureIntensity(double[])} for 28 rows of 28 values. */
    public static double measureIntensity(double[][] image) {
        return measureIntensity(flatten(image));
    }

    // ------------------------------------------------------------------ perturbing

    /** How {@link #setThickness(double[], double, ThicknessMode)} chooses the radius of the disk. */
    public enum ThicknessMode {
        /**
         * Morpho-MNIST's SetThickness: one dilation or erosion with radius floor(16 |target - measured| / 2)
         * (16x pixels). Re-measuring the result misses the target systematically at the extremes
         * (thin targets come out ~0.2-0.3 px too thick, t = 6 too thick where loops fill).
         */
        ONE_SHOT,
        /**
         * Starts from the ONE_SHOT radius, re-measures the result, and searches the signed radius
         * (dilation &gt; 0, erosion &lt; 0, in 16x pixels, not restricted to whole pixels) for the result
         * whose measured thickness is closest to the target: secant steps inside a bracket, stopping at
         * 0.5 % error or after {@value #MAX_RADIUS_TRIALS} trials. Same disk morphology, only the radius differs.
         */
        CALIBRATED
    }

    /** The most radii that CALIBRATED tries. */
    public static final int MAX_RADIUS_TRIALS = 12;

    /** {@code setThickness(image, target, ThicknessMode.CALIBRATED)}. */
    public static double[] setThickness(double[] image, double target) {
        return setThickness(image, target, ThicknessMode.CALIBRATED);
    }

    /**
     * Returns the digit with its mean stroke thickness changed to {@code target} pixels.
     *
     * <p>Steps: measure the thickness t0 ({@link #measureThickness}); upsample 16x (bicubic) and binarise at
     * half the min-max range; dilate (radius &gt; 0) or erode (radius &lt; 0) with the disk
     * {x^2 + y^2 &lt;= r^2}, computed exactly through the Euclidean distance transform (not by sliding the
     * disk); area-average each 16x16 block back to 28x28, giving the ink coverage 0..1 of each pixel; multiply
     * by the foreground intensity of the input ({@link #measureIntensity}) so that the grey level of the
     * strokes is kept (Morpho-MNIST scales the coverage to 0..255 instead; SetIntensity usually follows).
     * The radius is floor(16 |target - t0| / 2) for {@link ThicknessMode#ONE_SHOT}, and refined by
     * re-measuring for {@link ThicknessMode#CALIBRATED}.
     *
     * @throws IllegalArgumentException on invalid input, a target that is not finite and &gt; 0, or a target
     *                                  so thin that erosion removes the whole digit
     */
    public static double[] setThickness(double[] image, double target, ThicknessMode mode) {
        double[] range = validate(image);
        if (!(target > 0) || !Double.isFinite(target)) {
            throw new IllegalArgumentException("target thickness must be finite and > 0, got " + target);
        }
        if (mode == null) {
            throw new IllegalArgumentException("thickness mode is null");
        }
        double measured = measureThickness(image);
        double ink = foregroundMedian(image, threshold(range));
        Morpher morpher = new Morpher(binariseUpsampled(image, range, MORPH_SCALE), ink);
        double delta = target - measured;
        int r0 = (int) Math.floor(MORPH_SCALE * Math.abs(delta) / 2.0) * (delta < 0 ? -1 : 1);
        double[] first = morpher.apply(r0);
        double[] result = mode == ThicknessMode.ONE_SHOT ? first : calibrate(morpher, target, r0, first);
        if (result == null) {
            throw new IllegalArgumentException(String.format(
                    "target thickness %.4g is too thin for this digit (measured %.4g): erosion by %d/%d px removes all ink",
                    target, measured, -r0, MORPH_SCALE));
        }
        return result;
    }

    /**
     * Secant search over the signed radius (a real number: the disk {x^2 + y^2 &lt;= r^2} changes whenever r^2
     * passes an integer, which gives finer steps than whole pixels on curved and slanted edges), kept
     * inside the bracket [lo, hi] of radii known to give results thinner / thicker than the target.
     */
    private static double[] calibrate(Morpher morpher, double target, int r0, double[] first) {
        double tol = 0.005 * target;
        double[] best = first;
        double f = first == null ? -target : thicknessOrZero(first) - target;
        double bestErr = first == null ? Double.POSITIVE_INFINITY : Math.abs(f);
        double lo = Double.NEGATIVE_INFINITY; // radius known to give a result thinner than the target
        double hi = Double.POSITIVE_INFINITY; // radius known to give a result thicker than the target
        double fLo = Double.NaN;
        double fHi = Double.NaN;
        double r = r0;
        for (int trial = 1; trial < MAX_RADIUS_TRIALS && bestErr > tol; trial++) {
            if (f < 0) {
                lo = r;
                fLo = f;
            } else {
                hi = r;
                fHi = f;
            }
            double next;
            if (Double.isFinite(lo) && Double.isFinite(hi)) {
                if (hi - lo < 0.05) {
                    break;
                }
                double secant = lo + (hi - lo) * (-fLo) / (fHi - fLo);
                double margin = 0.1 * (hi - lo);
                next = Math.max(lo + margin, Math.min(hi - margin, secant));
            } else {
                // thickness grows by about 1/8 px per radius step (two sides, 16x pixels)
                double step = -f * MORPH_SCALE / 2.0;
                if (Math.abs(step) < 0.5) {
                    step = f < 0 ? 0.5 : -0.5;
                }
                next = r + step;
            }
            r = next;
            double[] img = morpher.apply(r);
            if (img == null) {
                f = -target; // eroded away: thinner than any target
                continue;
            }
            f = thicknessOrZero(img) - target;
            if (Math.abs(f) < bestErr) {
                bestErr = Math.abs(f);
                best = img;
            }
        }
        return best;
    }

    private static double thicknessOrZero(double[] img) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : img) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return max > min ? measureThickness(img) : 0.0;
    }

    /** Dilation / erosion of one 16x mask by any radius, from two distance transforms computed once. */
    private static final class Morpher {
        private final boolean[] mask;
        private final double ink;
        private final int n = SIDE * MORPH_SCALE;
        private double[] d2ToInk;
        private double[] d2ToBackground;

        Morpher(boolean[] mask, double ink) {
            this.mask = mask;
            this.ink = ink;
        }

        /** The 28x28 result for signed radius r (dilation &gt; 0, erosion &lt; 0), or null if no ink is left. */
        double[] apply(double r) {
            boolean[] m = new boolean[mask.length];
            double r2 = (double) r * r;
            boolean any = false;
            if (r > 0) {
                if (d2ToInk == null) {
                    boolean[] background = new boolean[mask.length];
                    for (int k = 0; k < mask.length; k++) {
                        background[k] = !mask[k];
                    }
                    d2ToInk = DistanceTransform.squaredDistanceToBackground(background, n, n);
                }
                for (int k = 0; k < m.length; k++) {
                    m[k] = d2ToInk[k] <= r2;
                    any |= m[k];
                }
            } else if (r < 0) {
                if (d2ToBackground == null) {
                    d2ToBackground = DistanceTransform.squaredDistanceToBackground(mask, n, n);
                }
                for (int k = 0; k < m.length; k++) {
                    m[k] = d2ToBackground[k] > r2;
                    any |= m[k];
                }
            } else {
                System.arraycopy(mask, 0, m, 0, m.length);
                any = true;
            }
            if (!any) {
                return null;
            }
            double[] out = Resampling.downsampleArea(m, n, n, MORPH_SCALE);
            for (int k = 0; k < out.length; k++) {
                out[k] *= ink;
            }
            return out;
        }
    }

    /** {@link #setThickness(double[], double)} for 28 rows of 28 values. */
    public static double[][] setThickness(double[][] image, double target) {
        return unflatten(setThickness(flatten(image), target));
    }

    /** {@link #setThickness(double[], double, ThicknessMode)} for 28 rows of 28 values. */
    public static double[][] setThickness(double[][] image, double target, ThicknessMode mode) {
        return unflatten(setThickness(flatten(image), target, mode));
    }

    /**
     * Multiplies the whole image by one factor and clamps it to 0..255 so that the median of the foreground
     * pixels ({@link #measureIntensity}) becomes {@code target}.
     *
     * <p>The factor is {@code target / measureIntensity(image)} (Morpho-MNIST's SetIntensity) whenever that
     * hits the target, i.e. whenever clamping at 255 does not change the foreground mask. When it does
     * (a dim digit brightened: the clamped maximum lowers the threshold, more faint pixels join the
     * foreground and pull the median down, by up to ~20 grey levels), the factor is found by bisection
     * on measureIntensity(clamp(factor x)) instead.
     *
     * @throws IllegalArgumentException on invalid input or a target outside (0, 255]
     */
    public static double[] setIntensity(double[] image, double target) {
        double[] range = validate(image);
        if (!(target > 0 && target <= 255)) {
            throw new IllegalArgumentException("target intensity must be in (0, 255], got " + target);
        }
        double current = foregroundMedian(image, threshold(range));
        if (!(current > 0)) {
            throw new IllegalArgumentException("cannot scale intensity: foreground median is " + current + " (not > 0)");
        }
        double factor = target / current;
        double[] out = scaleClamped(image, factor);
        double err = intensityOf(out) - target;
        if (Math.abs(err) <= 1e-9 * target) {
            return out;
        }
        // bracket the factor, then bisect; keep the best image seen
        double[] best = out;
        double bestErr = Math.abs(err);
        double lo = factor;
        double hi = factor;
        if (err < 0) {
            for (int i = 0; i < 60 && err < 0; i++) {
                lo = hi;
                hi *= 2;
                err = intensityOf(scaleClamped(image, hi)) - target;
            }
        } else {
            for (int i = 0; i < 60 && err > 0; i++) {
                hi = lo;
                lo /= 2;
                err = intensityOf(scaleClamped(image, lo)) - target;
            }
        }
        for (int i = 0; i < 60 && bestErr > 1e-9 * target; i++) {
            double mid = 0.5 * (lo + hi);
            double[] img = scaleClamped(image, mid);
            double e = intensityOf(img) - target;
            if (Math.abs(e) < bestErr) {
                bestErr = Math.abs(e);
                best = img;
            }
            if (e < 0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return best;
    }

    private static double[] scaleClamped(double[] image, double factor) {
        double[] out = new double[PIXELS];
        for (int k = 0; k < PIXELS; k++) {
            out[k] = Math.min(255.0, Math.max(0.0, image[k] * factor));
        }
        return out;
    }

    /** measureIntensity without validation (0 for a constant image). */
    private static double intensityOf(double[] img) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : img) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return max > min ? foregroundMedian(img, min + THRESHOLD * (max - min)) : 0.0;
    }

    /** {@link #setIntensity(double[], double)} for 28 rows of 28 values. */
    public static double[][] setIntensity(double[][] image, double target) {
        return unflatten(setIntensity(flatten(image), target));
    }

    // ------------------------------------------------------------------ helpers

    /** The binarised upsampled image: {@code (28 scale)^2} values, true where ink. */
    public static boolean[] binarise(double[] image, int scale) {
        double[] range = validate(image);
        if (scale < 1 || scale > 64) {
            throw new IllegalArgumentException("scale must be in 1..64, got " + scale);
        }
        return binariseUpsampled(image, range, scale);
    }

    private static boolean[] binariseUpsampled(double[] image, double[] range, int s) {
        double thr = threshold(range);
        if (s == 1) {
            boolean[] m = new boolean[PIXELS];
            for (int k = 0; k < PIXELS; k++) {
                m[k] = image[k] >= thr;
            }
            return m;
        }
        double[] up = Resampling.upsample(image, SIDE, SIDE, s, KERNEL);
        boolean[] m = new boolean[up.length];
        for (int k = 0; k < up.length; k++) {
            m[k] = up[k] >= thr;
        }
        return m;
    }

    private static double threshold(double[] range) {
        return range[0] + THRESHOLD * (range[1] - range[0]);
    }

    private static double foregroundMedian(double[] image, double thr) {
        double[] fg = new double[PIXELS];
        int n = 0;
        for (double v : image) {
            if (v >= thr) {
                fg[n++] = v;
            }
        }
        java.util.Arrays.sort(fg, 0, n);
        return (n & 1) == 1 ? fg[n / 2] : 0.5 * (fg[n / 2 - 1] + fg[n / 2]);
    }

    /** Checks the image; returns {min, max}. */
    static double[] validate(double[] image) {
        if (image == null) {
            throw new IllegalArgumentException("image is null");
        }
        if (image.length != PIXELS) {
            throw new IllegalArgumentException("image has " + image.length + " values, expected 784 (28x28)");
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < PIXELS; k++) {
            double v = image[k];
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("image pixel (row " + k / SIDE + ", column " + k % SIDE + ") is " + v);
            }
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!(max > min)) {
            throw new IllegalArgumentException("image has no foreground: all 784 pixels equal " + min);
        }
        return new double[]{min, max};
    }

    /** Row-major copy of a 28x28 array; checks the shape. */
    public static double[] flatten(double[][] image) {
        if (image == null) {
            throw new IllegalArgumentException("image is null");
        }
        if (image.length != SIDE) {
            throw new IllegalArgumentException("image has " + image.length + " rows, expected 28x28");
        }
        double[] out = new double[PIXELS];
        for (int r = 0; r < SIDE; r++) {
            if (image[r] == null) {
                throw new IllegalArgumentException("image row " + r + " is null");
            }
            if (image[r].length != SIDE) {
                throw new IllegalArgumentException("image row " + r + " has " + image[r].length + " values, expected 28x28");
            }
            System.arraycopy(image[r], 0, out, r * SIDE, SIDE);
        }
        return out;
    }

    /** 28 rows of 28 values from a row-major array of 784. */
    public static double[][] unflatten(double[] image) {
        if (image == null || image.length != PIXELS) {
            throw new IllegalArgumentException("image must hold 784 values");
        }
        double[][] out = new double[SIDE][SIDE];
        for (int r = 0; r < SIDE; r++) {
            System.arraycopy(image, r * SIDE, out[r], 0, SIDE);
        }
        return out;
    }
}
