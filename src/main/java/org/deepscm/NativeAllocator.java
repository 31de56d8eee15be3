package org.deepscm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Keeps freed native memory for the next call. glibc's malloc gives large buffers back to the system
 * as soon as they are freed (above a threshold that starts at 128 KiB they are mmap'ed and unmapped, and
 * the heap's top is trimmed), and libtorch frees and allocates megabytes for every layer of every call:
 * each counterfactual then pays for fresh zeroed pages. Raising both thresholds (what
 * {@code MALLOC_MMAP_THRESHOLD_} and {@code MALLOC_TRIM_THRESHOLD_} do) more than halved the brain
 * counterfactual's time here. Set once at start-up through {@code mallopt}, so that {@code java -jar},
 * the command line and the installed app all get it; a user who set either variable keeps theirs.
 */
public final class NativeAllocator {
  /** glibc's mallopt parameters (malloc.h). */
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_MMAP_THRESHOLD = -3;
  /** Buffers up to 32 MiB (glibc's largest threshold on 64-bit) come from the heap and are reused. */
  public static final int MMAP_THRESHOLD = 32 << 20;
  /** The heap is given back only when 2 GiB lie free at its top (mallopt takes an int). */
  public static final int TRIM_THRESHOLD = Integer.MAX_VALUE;

  private static String state = "not configured (NativeAllocator.configure not called)";
  private static boolean configured;

  private NativeAllocator() {}

  interface C extends Library {
    int mallopt(int param, int value);
  }

  /** Sets the thresholds once (later calls do nothing) and returns {@link #describe()}. */
  public static synchronized String configure() {
    if (configured) {
      return state;
    }
    configured = true;
    String mmapEnv = System.getenv("MALLOC_MMAP_THRESHOLD_");
    String trimEnv = System.getenv("MALLOC_TRIM_THRESHOLD_");
    if (mmapEnv != null || trimEnv != null) {
      state = "glibc malloc from the environment: MALLOC_MMAP_THRESHOLD_=" + (mmapEnv == null ? "(unset)" : mmapEnv)
          + " MALLOC_TRIM_THRESHOLD_=" + (trimEnv == null ? "(unset)" : trimEnv);
      return state;
    }
    if (!Platform.isLinux()) {
      state = "system allocator, unchanged (not Linux)";
      return state;
    }
    try {
      C c = Native.load(Platform.C_LIBRARY_NAME, C.class);
      boolean mmap = c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1;
      boolean trim = c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
      state = mmap && trim
          ? "glibc malloc: mmap threshold " + (MMAP_THRESHOLD >> 20) + " MiB, trim threshold "
              + (TRIM_THRESHOLD >> 20) + " MiB (set at start-up)"
          : "C library refused mallopt (mmap threshold " + (mmap ? "set" : "refused") + ", trim threshold "
              + (trim ? "set" : "refused") + "; not glibc?): its defaults apply";
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      state = "C library without mallopt (" + e.getMessage() + "): its defaults apply";
    }
    return state;
  }

  /** The allocator settings in force, in words, for `bench` and the logs. */
  public static synchronized String describe() {
    return state;
  }
}
