package org.deepscm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Platform;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {
  @Test
  void glibcTakesTheThresholdsOnceAndSaysSo() {
    String first = NativeAllocator.configure();
    assertEquals(first, NativeAllocator.configure(), "a second call changes nothing");
    assertEquals(first, NativeAllocator.describe());
    if (System.getenv("MALLOC_MMAP_THRESHOLD_") != null || System.getenv("MALLOC_TRIM_THRESHOLD_") != null) {
      assertTrue(first.contains("from the environment"), first);
    } else if (Platform.isLinux() && !Platform.isAndroid()) {
      // the build and CI machines run glibc: mallopt must have taken both values
      assertTrue(first.startsWith("glibc malloc: mmap threshold 32 MiB, trim threshold 2047 MiB"), first);
    }
  }
}
