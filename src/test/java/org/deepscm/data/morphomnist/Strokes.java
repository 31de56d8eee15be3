package org.deepscm.data.morphomnist;

/** Anti-aliased test strokes of known width, drawn analytically at 28x28 (ink 255 on 0). */
final class Strokes {

    private Strokes() {
    }

    /** Sub-samples per pixel side for the supersampled shapes. */
    private static final int SS = 32;

    /**
     * Horizontal bar: x in [x0, x1], y in [yc - w/2, yc + w/2] (pixel k covers [k, k+1)); each pixel's
     * value is 255 times its exact area coverage.
     */
    static double[] horizontalBar(double x0, double x1, double yc, double w) {
        double[] img = new double[784];
        for (int r = 0; r < 28; r++) {
            double cy = overlap(r, r + 1, yc - w / 2, yc + w / 2);
            for (int c = 0; c < 28; c++) {
                img[r * 28 + c] = 255 * cy * overlap(c, c + 1, x0, x1);
            }
        }
        return img;
    }

    /**
     * Bar (capsule without caps: a rectangle) of width w along the segment from (xa, ya) to (xb, yb),
     * anti-aliased by 32x32 supersampling.
     */
    static double[] bar(double xa, double ya, double xb, double yb, double w) {
        double dx = xb - xa;
        double dy = yb - ya;
        double len = Math.hypot(dx, dy);
        double ux = dx / len;
        double uy = dy / len;
        return supersample((x, y) -> {
            double along = (x - xa) * ux + (y - ya) * uy;
            double across = -(x - xa) * uy + (y - ya) * ux;
            return along >= 0 && along <= len && Math.abs(across) <= w / 2;
        });
    }

    /** Ring of centre (cx, cy), mid-line radius radius and width w, anti-aliased by supersampling. */
    static double[] ring(double cx, double cy, double radius, double w) {
        return supersample((x, y) -> {
            double r = Math.hypot(x - cx, y - cy);
            return Math.abs(r - radius) <= w / 2;
        });
    }

    interface Shape {
        boolean inside(double x, double y);
    }

    static double[] supersample(Shape shape) {
        double[] img = new double[784];
        for (int r = 0; r < 28; r++) {
            for (int c = 0; c < 28; c++) {
                int hits = 0;
                for (int i = 0; i < SS; i++) {
                    double y = r + (i + 0.5) / SS;
                    for (int j = 0; j < SS; j++) {
                        if (shape.inside(c + (j + 0.5) / SS, y)) {
                            hits++;
                        }
                    }
                }
                img[r * 28 + c] = 255.0 * hits / (SS * SS);
            }
        }
        return img;
    }

    private static double overlap(double a0, double a1, double b0, double b1) {
        return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
    }
}
