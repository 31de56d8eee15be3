package org.deepscm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the self-test and `bench` say about class-data sharing, in JVMs started with and without an archive. */
class DeviceInfoTest {
  @TempDir
  Path dir;

  /** Prints {@link DeviceInfo#classSharing()} of the JVM it runs in. */
  public static void main(String[] args) {
    System.out.print(DeviceInfo.classSharing());
  }

  private static String java(String... options) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of(options));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DeviceInfoTest.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM ends");
    return out.strip();
  }

  @Test
  void classSharingSaysWhetherAnArchiveIsMappedAndWhose() throws Exception {
    assertEquals("off", java("-Xshare:off"));
    Path archive = dir.resolve("app.jsa");
    // an archive of our own, as the .deb's postinst makes one (here of the JDK's default class list)
    Process dump = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xshare:dump", "-XX:SharedArchiveFile=" + archive, "-cp", System.getProperty("java.class.path"))
        .redirectErrorStream(true).redirectOutput(dir.resolve("dump.txt").toFile()).start();
    assertTrue(dump.waitFor(120, TimeUnit.SECONDS) && Files.size(archive) > 0, Files.readString(dir.resolve("dump.txt")));
    assertEquals("on (the app's archive)", java("-XX:SharedArchiveFile=" + archive));
    // an archive that is not there (postinst could not make it): the JVM starts without sharing, and says so
    assertEquals("off", java("-XX:SharedArchiveFile=" + dir.resolve("missing.jsa")));
  }
}
