package org.deepscm.data.morphomnist;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The real MNIST digits shipped in {@code resources/mnist} (see its README.md), with a deterministic,
 * class-balanced train/validation/test split.
 *
 * <p>Images are 28x28 unsigned bytes, row-major, 0 = background, 255 = ink. Accessors return copies.
 */
public final class MnistDigits {

    public static final int SIDE = 28;
    public static final int PIXELS = SIDE * SIDE;
    /** The seed of the split that the project uses. */
    public static final long DEFAULT_SPLIT_SEED = 20201206L;
    /** Fractions of each class that go to train and validation; the rest (20 %) is the test set. */
    public static final double TRAIN_FRACTION = 0.7;
    public static final double VALIDATION_FRACTION = 0.1;

    private final byte[] images;
    private final byte[] labels;

    private MnistDigits(byte[] images, byte[] labels) {
        this.images = images;
        this.labels = labels;
    }

    /** Loads {@code digits-images-idx3-ubyte.gz} and {@code digits-labels-idx1-ubyte.gz} from {@code mnistDir}. */
    public static MnistDigits load(Path mnistDir) throws IOException {
        Path imageFile = mnistDir.resolve(MnistImport.IMAGES_FILE);
        Path labelFile = mnistDir.resolve(MnistImport.LABELS_FILE);
        IdxReader.Images im = IdxReader.readImages(imageFile);
        byte[] lab = IdxReader.readLabels(labelFile);
        if (im.rows() != SIDE || im.cols() != SIDE) {
            throw new IOException(imageFile + ": images are " + im.rows() + "x" + im.cols() + ", expected 28x28");
        }
        if (im.count() != lab.length) {
            throw new IOException(mnistDir + ": " + im.count() + " images but " + lab.length + " labels");
        }
        for (int i = 0; i < lab.length; i++) {
            if ((lab[i] & 0xff) > 9) {
                throw new IOException(labelFile + ": label " + i + " is " + (lab[i] & 0xff) + ", expected 0..9");
            }
        }
        return new MnistDigits(im.data(), lab);
    }

    public int size() {
        return labels.length;
    }

    /** Digit class 0..9 of image {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** All labels, a copy. */
    public int[] labels() {
        int[] out = new int[labels.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = labels[i];
        }
        return out;
    }

    /** Image {@code i} as 784 raw bytes (read with {@code & 0xff}), row-major. */
    public byte[] imageBytes(int i) {
        checkIndex(i);
        return Arrays.copyOfRange(images, i * PIXELS, (i + 1) * PIXELS);
    }

    /** Image {@code i} as 784 ints 0..255, row-major. */
    public int[] imageInts(int i) {
        checkIndex(i);
        int[] out = new int[PIXELS];
        for (int k = 0; k < PIXELS; k++) {
            out[k] = images[i * PIXELS + k] & 0xff;
        }
        return out;
    }

    /** Image {@code i} as 28 rows of 28 ints 0..255. */
    public int[][] imageInts2d(int i) {
        int[] flat = imageInts(i);
        int[][] out = new int[SIDE][];
        for (int r = 0; r < SIDE; r++) {
            out[r] = Arrays.copyOfRange(flat, r * SIDE, (r + 1) * SIDE);
        }
        return out;
    }

    /** Image {@code i} as 784 doubles 0..255, row-major: the input type of {@link Morphology}. */
    public double[] imageDoubles(int i) {
        checkIndex(i);
        double[] out = new double[PIXELS];
        for (int k = 0; k < PIXELS; k++) {
            out[k] = images[i * PIXELS + k] & 0xff;
        }
        return out;
    }

    /** Number of digits of each class 0..9. */
    public int[] classCounts() {
        int[] c = new int[10];
        for (byte b : labels) {
            c[b]++;
        }
        return c;
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= labels.length) {
            throw new IndexOutOfBoundsException("digit index " + i + " outside 0.." + (labels.length - 1));
        }
    }

    /** Indices into this data set, each array sorted ascending. */
    public record Split(int[] train, int[] validation, int[] test) {
    }

    /** The project's split: {@code split(DEFAULT_SPLIT_SEED)}. */
    public Split split() {
        return split(DEFAULT_SPLIT_SEED);
    }

    /**
     * Class-balanced split: each class is shuffled with {@code new java.util.Random(seed + class)}
     * (Fisher-Yates; {@code java.util.Random} is specified exactly, so the split is the same on every JVM),
     * then its first 70 % go to train, the next 10 % to validation, the rest to test. Per-class sizes are
     * rounded by largest remainder so that the totals are exactly 70 / 10 / 20 % of the whole data set
     * (7,000 / 1,000 / 2,000 for 10,000 digits). Per class, train and train + validation each differ from
     * their exact share by less than one digit (so validation and test by less than two).
     */
    public Split split(long seed) {
        int[] counts = classCounts();
        int[] nTrain = apportion(counts, TRAIN_FRACTION);
        int[] nTrainVal = apportion(counts, TRAIN_FRACTION + VALIDATION_FRACTION);
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int c = 0; c < 10; c++) {
            int[] idx = new int[counts[c]];
            int k = 0;
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) {
                    idx[k++] = i;
                }
            }
            Random rng = new Random(seed + c);
            for (int i = idx.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
            int tv = Math.max(nTrainVal[c], nTrain[c]);
            for (int i = 0; i < idx.length; i++) {
                (i < nTrain[c] ? train : i < tv ? val : test).add(idx[i]);
            }
        }
        return new Split(sorted(train), sorted(val), sorted(test));
    }

    /** Per-class shares of {@code fraction * total}, integer, summing exactly to round(fraction * total). */
    static int[] apportion(int[] counts, double fraction) {
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        int target = (int) Math.round(fraction * total);
        int[] out = new int[counts.length];
        double[] rem = new double[counts.length];
        int sum = 0;
        for (int c = 0; c < counts.length; c++) {
            double exact = fraction * counts[c];
            out[c] = (int) Math.floor(exact + 1e-9);
            rem[c] = exact - out[c];
            sum += out[c];
        }
        while (sum < target) {
            int best = -1;
            for (int c = 0; c < counts.length; c++) {
                if (out[c] < counts[c] && (best < 0 || rem[c] > rem[best])) {
                    best = c;
                }
            }
            out[best]++;
            rem[best] = -1;
            sum++;
        }
        return out;
    }

    private static int[] sorted(List<Integer> list) {
        int[] a = list.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(a);
        return a;
    }
}
