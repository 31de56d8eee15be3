package org.deepscm.data;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.deepscm.data.brain.NiftiVolume;
import org.deepscm.data.brain.NiftiWriter;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.InvalidValueException;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of seeded mutations of valid files (truncations, flipped bytes, swapped fields, huge
 * numbers): each reader must end in a clear error of ours or a correct result, never another
 * exception, a hang or a non-finite number.
 */
public class ReaderFuzzTest {
  @TempDir
  Path dir;

  /** One mutation of a file's bytes, chosen by the random stream. */
  public static byte[] mutate(byte[] valid, SplittableRandom rng) {
    byte[] b = valid.clone();
    switch (rng.nextInt(5)) {
      case 0 -> b = java.util.Arrays.copyOf(b, rng.nextInt(Math.max(1, b.length)));
      case 1 -> {
        for (int k = 0, n = 1 + rng.nextInt(8); k < n && b.length > 0; k++) {
          b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
        }
      }
      case 2 -> {
        if (b.length > 8) {
          int i = rng.nextInt(b.length - 4);
          int j = rng.nextInt(b.length - 4);
          for (int k = 0; k < 4; k++) {
            byte t = b[i + k];
            b[i + k] = b[j + k];
            b[j + k] = t;
          }
        }
      }
      case 3 -> {
        if (b.length > 4) {
          int i = rng.nextInt(b.length - 4);
          b[i] = (byte) 0x7f;
          b[i + 1] = (byte) 0xff;
          b[i + 2] = (byte) 0xff;
          b[i + 3] = (byte) 0xff;
        }
      }
      default -> {
        if (b.length > 0) {
          b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
        }
      }
    }
    return b;
  }

  /** Text mutations that keep it text: cut, duplicate a piece, replace a field with a huge or odd value. */
  public static String mutateText(String valid, SplittableRandom rng) {
    String[] odd = {"1e400", "-1e400", "NaN", "", "\"", ",", "abc", "9999999999999999999999", "{", "]", "null"};
    int at = rng.nextInt(Math.max(1, valid.length()));
    return switch (rng.nextInt(4)) {
      case 0 -> valid.substring(0, at);
      case 1 -> valid.substring(0, at) + odd[rng.nextInt(odd.length)] + valid.substring(at);
      case 2 -> {
        int to = Math.min(valid.length(), at + 1 + rng.nextInt(6));
        yield valid.substring(0, at) + odd[rng.nextInt(odd.length)] + valid.substring(to);
      }
      default -> valid.substring(0, at) + valid.substring(Math.min(valid.length(), at + 1 + rng.nextInt(10)));
    };
  }

  @Test
  void niftiReader() throws IOException {
    byte[] data = new byte[6 * 5 * 4];
    for (int k = 0; k < data.length; k++) {
      data[k] = (byte) (k * 7);
    }
    Path valid = dir.resolve("valid.nii");
    NiftiWriter.write(valid, 6, 5, 4, new double[] {1, 1, 1}, new double[][] {{1, 0, 0, -3}, {0, 1, 0, -2},
        {0, 0, 1, -2}, {0, 0, 0, 1}}, data);
    byte[] bytes = Files.readAllBytes(valid);
    SplittableRandom rng = new SplittableRandom(11);
    int ok = 0;
    for (int k = 0; k < 3000; k++) {
      Path f = dir.resolve("m.nii");
      Files.write(f, mutate(bytes, rng));
      try {
        NiftiVolume v = NiftiVolume.read(f);
        for (float x : v.data()) {
          assertTrue(Float.isFinite(x), "mutation " + k + " read a non-finite voxel");
        }
        ok++;
      } catch (IOException e) {
        assertTrue(e.getMessage() != null && e.getMessage().contains("m.nii"), "mutation " + k + ": " + e.getMessage());
      } catch (RuntimeException e) {
        fail("mutation " + k + " of a NIfTI file ended in " + e);
      }
    }
    assertTrue(ok > 100, "many mutations leave a readable file (flipped voxel bits): " + ok);
  }

  @Test
  void pngReader() throws IOException {
    Path valid = dir.resolve("valid.png");
    double[] px = new double[28 * 28];
    for (int k = 0; k < px.length; k++) {
      px[k] = k % 256;
    }
    ImageFiles.writeGrey(valid, px, 28, 28);
    byte[] bytes = Files.readAllBytes(valid);
    SplittableRandom rng = new SplittableRandom(12);
    for (int k = 0; k < 2000; k++) {
      Path f = dir.resolve("m.png");
      Files.write(f, mutate(bytes, rng));
      try {
        for (double x : ImageFiles.read(f, 28, 28).pixels()) {
          assertTrue(x >= 0 && x <= 255, "mutation " + k + " read " + x);
        }
      } catch (IOException e) {
        assertTrue(e.getMessage() != null && e.getMessage().contains("m.png"), "mutation " + k + ": " + e.getMessage());
      } catch (RuntimeException e) {
        fail("mutation " + k + " of a PNG ended in " + e);
      }
    }
  }

  @Test
  void covariateCsvReader() throws IOException {
    String valid = "t,i\n2.5,150\n1.8,90\n\"3.1\",200\n";
    SplittableRandom rng = new SplittableRandom(13);
    for (int k = 0; k < 3000; k++) {
      Path f = dir.resolve("m.csv");
      Files.writeString(f, mutateText(valid, rng), StandardCharsets.UTF_8);
      try {
        CovariateTable t = CovariateTable.readCsv(f, List.of("t", "i"), null);
        for (String c : List.of("t", "i")) {
          for (double x : t.column(c)) {
            assertTrue(Double.isFinite(x), "mutation " + k + " read " + x);
          }
        }
      } catch (IOException | InvalidValueException e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "mutation " + k);
      } catch (RuntimeException e) {
        fail("mutation " + k + " of a CSV ended in " + e + " for:\n" + Files.readString(f));
      }
    }
  }

  @Test
  void modelJson() throws IOException {
    Path valid = Path.of("models", "morphomnist-covariates");
    String json = Files.readString(valid.resolve(ModelFolder.MODEL_FILE));
    byte[] weights = Files.readAllBytes(valid.resolve(ModelFolder.WEIGHTS_FILE));
    SplittableRandom rng = new SplittableRandom(14);
    Path folder = dir.resolve("model");
    Files.createDirectories(folder);
    for (int k = 0; k < 600; k++) {
      boolean weightsToo = rng.nextInt(3) == 0;
      Files.writeString(folder.resolve(ModelFolder.MODEL_FILE), weightsToo ? json : mutateText(json, rng));
      Files.write(folder.resolve(ModelFolder.WEIGHTS_FILE), weightsToo ? mutate(weights, rng) : weights);
      try (SavedModel m = ModelFolder.load(folder)) {
        assertTrue(m.scm() != null);
      } catch (InvalidModelException | InvalidValueException e) {
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "mutation " + k);
      } catch (RuntimeException e) {
        fail("mutation " + k + " of a model folder (" + (weightsToo ? "weights" : "model.json") + ") ended in " + e);
      }
    }
  }
}
