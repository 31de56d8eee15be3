package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {

    @TempDir
    Path tmp;

    private static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        return bos.toByteArray();
    }

    private static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7);
        }
        return b;
    }

    @Test
    void readsPlainAndGzippedImagesAndLabels() throws IOException {
        byte[] pixels = ramp(3 * 4 * 5);
        Path plain = tmp.resolve("img.idx3");
        Files.write(plain, idx(IdxReader.MAGIC_IDX3_UBYTE, new int[]{3, 4, 5}, pixels));
        Path gz = tmp.resolve("img.idx3.gz");
        MnistImport.writeIdx(gz, IdxReader.MAGIC_IDX3_UBYTE, new int[]{3, 4, 5}, pixels);
        for (Path p : new Path[]{plain, gz}) {
            IdxReader.Images im = IdxReader.readImages(p);
            assertEquals(3, im.count());
            assertEquals(4, im.rows());
            assertEquals(5, im.cols());
            assertArrayEquals(pixels, im.data());
            assertEquals(pixels[(2 * 4 + 3) * 5 + 4] & 0xff, im.pixel(2, 3, 4));
        }
        byte[] labels = {0, 9, 3, (byte) 200};
        Path lab = tmp.resolve("lab.gz");
        MnistImport.writeIdx(lab, IdxReader.MAGIC_IDX1_UBYTE, new int[]{4}, labels);
        assertArrayEquals(labels, IdxReader.readLabels(lab));
    }

    @Test
    void readsTheShippedDigits() throws IOException {
        IdxReader.Images im = IdxReader.readImages(Path.of("resources/mnist", MnistImport.IMAGES_FILE));
        assertEquals(10000, im.count());
        assertEquals(28, im.rows());
        assertEquals(28, im.cols());
        assertEquals(10000, IdxReader.readLabels(Path.of("resources/mnist", MnistImport.LABELS_FILE)).length);
    }

    @Test
    void badMagicIsReportedWithTheFileName() throws IOException {
        Path p = tmp.resolve("labels-as-images.idx");
        Files.write(p, idx(IdxReader.MAGIC_IDX1_UBYTE, new int[]{4}, ramp(4)));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("labels-as-images.idx"), e.getMessage());
        assertTrue(e.getMessage().contains("bad magic number 0x00000801"), e.getMessage());

        Path q = tmp.resolve("float.idx");
        Files.write(q, idx(0x00000D03, new int[]{1, 1, 1}, new byte[4])); // type 0x0D = float
        e = assertThrows(IOException.class, () -> IdxReader.readImages(q));
        assertTrue(e.getMessage().contains("float.idx") && e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void truncatedDataIsReported() throws IOException {
        byte[] full = idx(IdxReader.MAGIC_IDX3_UBYTE, new int[]{2, 28, 28}, ramp(2 * 784));
        Path p = tmp.resolve("short.idx3");
        Files.write(p, Arrays.copyOf(full, full.length - 10));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("short.idx3") && e.getMessage().contains("truncated")
                && e.getMessage().contains("1568"), e.getMessage());

        Path h = tmp.resolve("header.idx3");
        Files.write(h, Arrays.copyOf(full, 9));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(h));
        assertTrue(e.getMessage().contains("header.idx3") && e.getMessage().contains("truncated"), e.getMessage());

        Path tiny = tmp.resolve("tiny.idx1");
        Files.write(tiny, new byte[]{0, 0});
        e = assertThrows(IOException.class, () -> IdxReader.readLabels(tiny));
        assertTrue(e.getMessage().contains("tiny.idx1") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void trailingBytesAreReported() throws IOException {
        byte[] full = idx(IdxReader.MAGIC_IDX1_UBYTE, new int[]{3}, new byte[]{1, 2, 3});
        Path p = tmp.resolve("long.idx1");
        Files.write(p, Arrays.copyOf(full, full.length + 2));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readLabels(p));
        assertTrue(e.getMessage().contains("long.idx1") && e.getMessage().contains("2 unexpected trailing bytes"),
                e.getMessage());
    }

    @Test
    void truncatedGzipIsReported() throws IOException {
        Path gz = tmp.resolve("cut.gz");
        MnistImport.writeIdx(gz, IdxReader.MAGIC_IDX3_UBYTE, new int[]{50, 28, 28}, ramp(50 * 784));
        byte[] all = Files.readAllBytes(gz);
        Files.write(gz, Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(gz));
        assertTrue(e.getMessage().contains("cut.gz"), e.getMessage());

        Path bad = tmp.resolve("garbage.gz");
        byte[] garbage = all.clone();
        for (int i = 12; i < garbage.length - 8; i++) {
            garbage[i] ^= 0x5a;
        }
        Files.write(bad, garbage);
        e = assertThrows(IOException.class, () -> IdxReader.readImages(bad));
        assertTrue(e.getMessage().contains("garbage.gz"), e.getMessage());
    }

    @Test
    void absurdSizesAreRefusedWithoutAllocating() throws IOException {
        Path p = tmp.resolve("huge.idx3");
        Files.write(p, idx(IdxReader.MAGIC_IDX3_UBYTE, new int[]{Integer.MAX_VALUE, 28, 28}, new byte[0]));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(p));
        assertTrue(e.getMessage().contains("huge.idx3"), e.getMessage());
        Path n = tmp.resolve("negative.idx3");
        Files.write(n, idx(IdxReader.MAGIC_IDX3_UBYTE, new int[]{-1, 28, 28}, new byte[0]));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(n));
        assertTrue(e.getMessage().contains("negative.idx3") && e.getMessage().contains("negative size"), e.getMessage());
    }
}
