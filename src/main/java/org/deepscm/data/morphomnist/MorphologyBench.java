package org.deepscm.data.morphomnist;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.ToDoubleFunction;

/**
 * Prints a timing table of the morphometrics over 200 real digits (one per 50th digit, all classes).
 * Usage: {@code java -cp target/classes org.deepscm.data.morphomnist.MorphologyBench [resources/mnist]}.
 * Targets are drawn from the Morpho-MNIST ranges with a fixed seed. Single-threaded; the JIT is warmed
 * up on a first round over the same digits, which is not printed.
 */
public final class MorphologyBench {

    private MorphologyBench() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "resources/mnist");
        MnistDigits digits = MnistDigits.load(dir);
        int n = 200;
        double[][] images = new double[n][];
        double[] thick = new double[n];
        double[] inten = new double[n];
        java.util.Random rng = new java.util.Random(7);
        for (int i = 0; i < n; i++) {
            images[i] = digits.imageDoubles(i * (digits.size() / n));
            thick[i] = 1 + 5 * rng.nextDouble();
            inten[i] = 64 + 191 * rng.nextDouble();
        }
        System.out.printf("%d real digits, single thread, %s%n", n, System.getProperty("java.vm.name"));
        for (int round = 0; round < 2; round++) { // round 0 warms up the JIT and is not printed
            table(images, thick, inten, round == 1);
        }
    }

    private static void table(double[][] images, double[] thick, double[] inten, boolean print) {
        int n = images.length;
        if (print) {
            System.out.printf("%-36s %8s %8s %8s %8s%n", "operation (ms per digit)", "mean", "median", "p95", "max");
        }
        row(print, "measureThickness", images, x -> Morphology.measureThickness(x));
        row(print, "measureIntensity", images, x -> Morphology.measureIntensity(x));
        int[] k = {0};
        row(print, "setThickness ONE_SHOT, t in [1,6]", images,
                x -> Morphology.setThickness(x, thick[k[0]++ % n], Morphology.ThicknessMode.ONE_SHOT)[0]);
        row(print, "setThickness CALIBRATED, t in [1,6]", images,
                x -> Morphology.setThickness(x, thick[k[0]++ % n], Morphology.ThicknessMode.CALIBRATED)[0]);
        row(print, "setIntensity, i in [64,255]", images, x -> Morphology.setIntensity(x, inten[k[0]++ % n])[0]);
    }

    private static void row(boolean print, String name, double[][] images, ToDoubleFunction<double[]> op) {
        double sink = 0;
        double[] ms = new double[images.length];
        for (int i = 0; i < images.length; i++) {
            long t0 = System.nanoTime();
            sink += op.applyAsDouble(images[i]);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        if (!print) {
            return;
        }
        System.out.printf("%-36s %8.3f %8.3f %8.3f %8.3f%s%n", name, Arrays.stream(ms).average().orElse(0),
                sorted[sorted.length / 2], sorted[(int) Math.ceil(0.95 * sorted.length) - 1], sorted[sorted.length - 1],
                Double.isNaN(sink) ? " (NaN seen)" : "");
    }
}
