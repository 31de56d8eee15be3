package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.deepscm.data.ReaderFuzzTest;
import org.deepscm.scm.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The weights file alone, mutated (cut, bits flipped, bytes swapped, huge values written over numbers),
 * then used as a user would: every run of `sample` and `counterfactual` ends in a clear error or in an
 * answer made of finite numbers; never a stack trace, an exception's name or a NaN.
 */
class WeightsFuzzTest {
  @TempDir
  Path dir;

  @Test
  void aDamagedWeightsFileGivesAClearErrorOrFiniteAnswers() throws IOException {
    Path valid = Path.of("models", "morphomnist-covariates");
    byte[] weights = Files.readAllBytes(valid.resolve(ModelFolder.WEIGHTS_FILE));
    Path folder = dir.resolve("model");
    Files.createDirectories(folder);
    Files.copy(valid.resolve(ModelFolder.MODEL_FILE), folder.resolve(ModelFolder.MODEL_FILE));
    SplittableRandom rng = new SplittableRandom(11);
    int refused = 0;
    for (int k = 0; k < 300; k++) {
      Files.write(folder.resolve(ModelFolder.WEIGHTS_FILE), ReaderFuzzTest.mutate(weights, rng));
      String[][] commands = {
          {"sample", "--model", folder.toString(), "-n", "20", "--csv"},
          {"counterfactual", "--model", folder.toString(), "--observed", "t=2,i=150", "--do", "t=3", "--csv"}};
      for (String[] args : commands) {
        CommandLineTest.Run r = CommandLineTest.run(args);
        String what = "mutation " + k + ", " + args[0] + ": exit " + r.code() + "\n" + r.out() + r.err();
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat ") || r.err().contains("Error:"), what);
        if (r.code() == 0) {
          assertFalse(r.out().contains("NaN") || r.out().contains("Infinity"), what);
        } else {
          assertTrue(r.err().startsWith("error: "), what);
          refused++;
        }
      }
    }
    assertTrue(refused > 0, "some mutations must be refused (a cut file cannot load)");
  }
}
