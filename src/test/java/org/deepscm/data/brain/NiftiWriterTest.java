package org.deepscm.data.brain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NiftiWriterTest {
  @TempDir
  Path tmp;

  private static final double[][] LAS = {{-2, 0, 0, 100}, {0, 3, 0, -120}, {0, 0, 4, -60}, {0, 0, 0, 1}};

  private static byte[] volume(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + 7);
    }
    return b;
  }

  @Test
  void writtenFilesReadBackPlainAndGzipped() throws IOException {
    byte[] data = volume(5 * 4 * 3);
    for (String name : new String[] {"out.nii", "out.nii.gz"}) {
      Path p = tmp.resolve(name);
      NiftiWriter.write(p, 5, 4, 3, new double[] {2, 3, 4}, LAS, data, NiftiWriter.SFORM_MNI);
      NiftiVolume v = NiftiVolume.read(p);
      assertEquals(5, v.nx());
      assertEquals(4, v.ny());
      assertEquals(3, v.nz());
      assertEquals("uint8", v.datatypeName());
      assertEquals("sform", v.affineSource());
      assertEquals("LAS", v.orientation());
      assertArrayEquals(new double[] {2, 3, 4}, v.voxelSizeMm());
      for (int r = 0; r < 4; r++) {
        assertArrayEquals(LAS[r], v.affine()[r], 0);
      }
      float[] read = v.data();
      for (int i = 0; i < data.length; i++) {
        assertEquals(data[i] & 0xff, read[i]);
      }
      byte[] raw = Files.readAllBytes(p);
      if (name.endsWith(".gz")) {
        assertEquals(0x1f, raw[0] & 0xff);
        assertEquals(0x8b, raw[1] & 0xff);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
          raw = in.readAllBytes();
        }
      }
      assertEquals(352 + data.length, raw.length);
      ByteBuffer h = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(348, h.getInt(0));
      assertEquals(NiftiWriter.SFORM_MNI, h.getShort(254));
      assertEquals(0, h.getShort(252));
      assertEquals(352f, h.getFloat(108));
    }
  }

  @Test
  void theDefaultSformCodeIsScanner() throws IOException {
    Path p = tmp.resolve("scanner.nii");
    NiftiWriter.write(p, 2, 2, 2, new double[] {1, 1, 1}, LAS, volume(8));
    assertEquals(NiftiWriter.SFORM_SCANNER, ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN)
        .getShort(254));
  }

  @Test
  void gzipOutputIsByteForByteReproducible() throws IOException {
    byte[] data = volume(30 * 30 * 30);
    Path a = tmp.resolve("a.nii.gz");
    Path b = tmp.resolve("b.nii.gz");
    NiftiWriter.write(a, 30, 30, 30, new double[] {1, 1, 1}, LAS, data);
    NiftiWriter.write(b, 30, 30, 30, new double[] {1, 1, 1}, LAS, data);
    byte[] first = Files.readAllBytes(a);
    assertArrayEquals(first, Files.readAllBytes(b));
    // The gzip header: magic, deflate, no flags (so no file name), modification time 0.
    assertEquals(8, first[2]);
    assertEquals(0, first[3]);
    for (int i = 4; i < 8; i++) {
      assertEquals(0, first[i], "mtime byte " + i);
    }
  }

  @Test
  void overwritesAndLeavesNoPartialFile() throws IOException {
    Path p = tmp.resolve("again.nii.gz");
    NiftiWriter.write(p, 2, 2, 2, new double[] {1, 1, 1}, LAS, volume(8));
    NiftiWriter.write(p, 3, 2, 2, new double[] {1, 1, 1}, LAS, volume(12));
    assertEquals(3, NiftiVolume.read(p).nx());
    try (var files = Files.list(tmp)) {
      assertEquals(1, files.count());
    }
    assertFalse(Files.exists(tmp.resolve("again.nii.gz.part")));
  }

  @Test
  void badArgumentsAreRefused() {
    Path p = tmp.resolve("bad.nii");
    double[] size = {1, 1, 1};
    assertThrows(IllegalArgumentException.class, () -> NiftiWriter.write(p, 2, 2, 2, size, LAS, new byte[7]));
    assertThrows(IllegalArgumentException.class, () -> NiftiWriter.write(p, 0, 2, 2, size, LAS, new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> NiftiWriter.write(p, 40000, 1, 1, size, LAS, new byte[40000]));
    assertThrows(IllegalArgumentException.class,
        () -> NiftiWriter.write(p, 2, 2, 2, new double[] {1, 0, 1}, LAS, new byte[8]));
    double[][] singular = {{1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NiftiWriter.write(p, 2, 2, 2, size, singular, new byte[8]));
    assertTrue(e.getMessage().contains("singular"), e.getMessage());
    double[][] lastRow = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 1, 1}};
    assertThrows(IllegalArgumentException.class, () -> NiftiWriter.write(p, 2, 2, 2, size, lastRow, new byte[8]));
    assertThrows(IllegalArgumentException.class, () -> NiftiWriter.write(p, 2, 2, 2, size, LAS, new byte[8], 5));
    assertFalse(Files.exists(p));
  }
}
