package org.deepscm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {
  private static boolean glibcSettingsFromEnvironment() {
    return System.getenv("MALLOC_MMAP_THRESHOLD_") != null || System.getenv("MALLOC_TRIM_THRESHOLD_") != null
        || System.getenv("MALLOC_TOP_PAD_") != null;
  }

  private static boolean glibc() {
    return Platform.isLinux() && !Platform.isAndroid();
  }

  @Test
  void glibcTakesTheSettingsOnceAndSaysSo() {
    String first = NativeAllocator.configure();
    assertEquals(first, NativeAllocator.configure(), "a second call changes nothing");
    assertEquals(first, NativeAllocator.describe());
    if (glibcSettingsFromEnvironment()) {
      assertTrue(first.contains("from the environment"), first);
    } else if (glibc()) {
      // the build and CI machines run glibc: mallopt must have taken all three values
      assertEquals("glibc malloc: mmap threshold 32 MiB, trim threshold 2047 MiB, top pad 64 MiB (set at start-up)",
          first);
    }
  }

  /**
   * What the settings are for: a thread that allocates and frees more than one arena heap (64 MiB) of
   * buffers again and again, as the model's worker does per counterfactual, gets its memory back without
   * new page faults. Without the top pad such a thread (whenever it was not given the program's first
   * arena) faults most of it in anew each round: 18,434 of the 32,768 pages here, three runs of three.
   */
  @Test
  void aThreadReusesItsFreedBuffersWithoutFaultingThemInAgain() throws Exception {
    if (!glibc() || glibcSettingsFromEnvironment() || !Files.isReadable(Path.of("/proc/thread-self/stat"))) {
      return;
    }
    NativeAllocator.configure();
    int buffers = 16;
    long size = 8L << 20; // below the 32 MiB mmap threshold: from the thread's arena
    AtomicLong worstRound = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread worker = new Thread(() -> {
      try {
        long[] blocks = new long[buffers];
        for (int round = 0; round < 5; round++) {
          long before = minorFaultsOfThisThread();
          for (int b = 0; b < buffers; b++) {
            blocks[b] = Native.malloc(size);
            new Pointer(blocks[b]).setMemory(0, size, (byte) 1);
          }
          for (int b = buffers - 1; b >= 0; b--) {
            Native.free(blocks[b]);
          }
          long faults = minorFaultsOfThisThread() - before;
          if (round > 0) { // the first round faults the memory in once
            worstRound.accumulateAndGet(faults, Math::max);
          }
        }
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "allocator-test");
    worker.start();
    worker.join();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    long pages = buffers * size / 4096;
    assertTrue(worstRound.get() < pages / 10,
        "a round after the first faulted " + worstRound.get() + " pages of " + pages + " in again");
  }

  private static long minorFaultsOfThisThread() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      // fields after the command's closing parenthesis: state(3) ppid pgrp session tty tpgid flags minflt(10)
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[7]);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
