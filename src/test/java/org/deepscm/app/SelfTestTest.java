package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `--self-test` as an installed app runs it: a separate JVM (JavaFX can start once per process), here on
 * the headless Monocle platform the UI tests use; CI runs the packaged launcher the same way under Xvfb.
 */
class SelfTestTest {
  @TempDir
  Path dir;

  record Run(int code, String out, String err) {}

  private Run launch(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Xmx2g", "-Djava.awt.headless=true",
        "-Dglass.platform=Monocle", "-Dmonocle.platform=Headless", "-Dprism.order=sw", "-Dprism.text=t2k",
        "org.deepscm.Launcher"));
    cmd.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(ExplorerApp.SELF_TEST_SECONDS + 60, TimeUnit.SECONDS), "the self-test ends by itself");
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void selfTestOpensTheWindowComputesACounterfactualAndWritesAScreenshot() throws Exception {
    Path shot = dir.resolve("shots").resolve("self-test.png");
    Run r = launch("--self-test", shot.toString(), "--model", "models/morphomnist-covariates");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().startsWith("self-test passed: model morphomnist-covariates, device CPU"), r.out());
    assertTrue(r.out().contains("first counterfactual on screen"), r.out());
    BufferedImage png = ImageIO.read(shot.toFile());
    assertTrue(png.getWidth() > 600 && png.getHeight() > 400, png.getWidth() + " x " + png.getHeight());
    int first = png.getRGB(0, 0);
    boolean varied = false;
    for (int y = 0; y < png.getHeight() && !varied; y += 7) {
      for (int x = 0; x < png.getWidth() && !varied; x += 7) {
        varied = png.getRGB(x, y) != first;
      }
    }
    assertTrue(varied, "the screenshot shows the window, not a blank");
  }

  @Test
  void aSelfTestThatCannotOpenItsModelFailsWithTheReason() throws Exception {
    Run r = launch("--self-test", dir.resolve("never.png").toString(), "--model", dir.resolve("no-model").toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("self-test FAILED: Cannot open model"), r.err());
    assertTrue(!Files.exists(dir.resolve("never.png")));
  }
}
