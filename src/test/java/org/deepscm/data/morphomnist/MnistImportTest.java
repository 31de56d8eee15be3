package org.deepscm.data.morphomnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MnistImportTest {

    @TempDir
    Path tmp;

    /** Writes a fake npm package: class d holds d+1 digits whose pixel k is (31 d + 7 j + k) mod 256. */
    private Path fakePackage() throws IOException {
        Path digits = Files.createDirectories(tmp.resolve("pkg/src/digits"));
        for (int d = 0; d < 10; d++) {
            StringBuilder sb = new StringBuilder("{ \"data\": [");
            for (int j = 0; j <= d; j++) {
                for (int k = 0; k < 784; k++) {
                    int b = (31 * d + 7 * j + k) % 256;
                    double v = Math.round(b / 255.0 * 1000) / 1000.0;
                    sb.append(j + k == 0 ? "" : ",").append(v == Math.rint(v) ? String.valueOf((int) v)
                            : String.format(Locale.ROOT, "%.3f", v));
                }
            }
            Files.writeString(digits.resolve(d + ".json"), sb.append("] }").toString());
        }
        return tmp.resolve("pkg");
    }

    @Test
    void importRecoversTheBytesInClassOrder() throws IOException {
        Path out = tmp.resolve("out");
        int[] counts = MnistImport.importDigits(fakePackage(), out);
        assertArrayEquals(new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, counts);
        IdxReader.Images im = IdxReader.readImages(out.resolve(MnistImport.IMAGES_FILE));
        byte[] labels = IdxReader.readLabels(out.resolve(MnistImport.LABELS_FILE));
        assertEquals(55, im.count());
        int i = 0;
        for (int d = 0; d < 10; d++) {
            for (int j = 0; j <= d; j++, i++) {
                assertEquals(d, labels[i]);
                for (int k = 0; k < 784; k++) {
                    assertEquals((31 * d + 7 * j + k) % 256, im.pixel(i, k / 28, k % 28));
                }
            }
        }
        String readme = Files.readString(out.resolve("README.md"));
        assertTrue(readme.contains("CC BY-SA 3.0") && readme.contains("LeCun") && readme.contains("| 9 | 10 |"), readme);
        // deterministic bytes
        Path again = tmp.resolve("again");
        MnistImport.importDigits(tmp.resolve("pkg"), again);
        assertArrayEquals(Files.readAllBytes(out.resolve(MnistImport.IMAGES_FILE)),
                Files.readAllBytes(again.resolve(MnistImport.IMAGES_FILE)));
    }

    @Test
    void valuesThatAreNotBytesOver255AreRejected() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(d.resolve("x.json"), "{\"data\": [0.5, " + "0,".repeat(782) + "0]}");
        IOException e = assertThrows(IOException.class, () -> MnistImport.readDigitJson(d.resolve("x.json")));
        assertTrue(e.getMessage().contains("data[0] = 0.5"), e.getMessage());

        Files.writeString(d.resolve("y.json"), "{\"data\": [0, 0, 1]}");
        e = assertThrows(IOException.class, () -> MnistImport.readDigitJson(d.resolve("y.json")));
        assertTrue(e.getMessage().contains("not a positive multiple of 784"), e.getMessage());

        Files.writeString(d.resolve("z.json"), "[1, 2]");
        e = assertThrows(IOException.class, () -> MnistImport.readDigitJson(d.resolve("z.json")));
        assertTrue(e.getMessage().contains("z.json"), e.getMessage());
    }

    @Test
    void shippedReadmeAttributesAndCounts() throws IOException {
        String readme = Files.readString(Path.of("resources/mnist/README.md"));
        assertTrue(readme.contains("Yann LeCun, Corinna Cortes and Christopher J.C. Burges"));
        assertTrue(readme.contains("CC BY-SA 3.0") && readme.contains("mnist` version 1.1.0"));
        assertTrue(readme.contains("| total | 10000 |") && readme.contains("MnistImport"));
    }
}
