package org.deepscm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps freed native memory for the next call. glibc's malloc gives large buffers back to the system
 * as soon as they are freed, and libtorch frees and allocates megabytes for every layer of every call:
 * each counterfactual then pays for fresh zeroed pages (page faults, kernel time). Three ways out are
 * closed here, once at start-up through {@code mallopt}, so that {@code java -jar}, the command line and
 * the installed app all get it:
 * <ul>
 *   <li>buffers above a threshold that starts at 128 KiB are mmap'ed and unmapped: the threshold is
 *       raised to 32 MiB, glibc's largest;</li>
 *   <li>the heap's free top is trimmed: the trim threshold is raised to 2 GiB;</li>
 *   <li>a thread other than the program's first allocates from an arena of 64 MiB heaps, and a heap
 *       that falls wholly free is unmapped (the trim threshold does not stop that). A brain
 *       counterfactual needs more than one heap, so whenever the model's worker thread was given such an
 *       arena (which thread gets which arena is chance), every call faulted its memory in anew: seven
 *       times the page faults and 3-6x the time in about one run in three. A top pad of 64 MiB keeps
 *       those heaps.</li>
 * </ul>
 * A user who set one of glibc's variables ({@code MALLOC_MMAP_THRESHOLD_}, {@code MALLOC_TRIM_THRESHOLD_},
 * {@code MALLOC_TOP_PAD_}) keeps that one.
 */
public final class NativeAllocator {
  /** glibc's mallopt parameters (malloc.h). */
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_TOP_PAD = -2;
  private static final int M_MMAP_THRESHOLD = -3;
  /** Buffers up to 32 MiB (glibc's largest threshold on 64-bit) come from the heap and are reused. */
  public static final int MMAP_THRESHOLD = 32 << 20;
  /** The heap is given back only when 2 GiB lie free at its top (mallopt takes an int). */
  public static final int TRIM_THRESHOLD = Integer.MAX_VALUE;
  /** A thread arena's heap (64 MiB at most) is never unmapped once made. */
  public static final int TOP_PAD = 64 << 20;

  private static String state = "not configured (NativeAllocator.configure not called)";
  private static boolean configured;

  private NativeAllocator() {}

  interface C extends Library {
    int mallopt(int param, int value);
  }

  private record Setting(String words, String variable, int param, int value) {}

  /** Sets the thresholds once (later calls do nothing) and returns {@link #describe()}. */
  public static synchronized String configure() {
    if (configured) {
      return state;
    }
    configured = true;
    if (!Platform.isLinux()) {
      state = "system allocator, unchanged (not Linux)";
      return state;
    }
    List<Setting> settings = List.of(
        new Setting("mmap threshold", "MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        new Setting("trim threshold", "MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        new Setting("top pad", "MALLOC_TOP_PAD_", M_TOP_PAD, TOP_PAD));
    C c;
    try {
      c = Native.load(Platform.C_LIBRARY_NAME, C.class);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      state = "C library without mallopt (" + e.getMessage() + "): its defaults apply";
      return state;
    }
    List<String> set = new ArrayList<>();
    List<String> fromEnvironment = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    for (Setting s : settings) {
      String env = System.getenv(s.variable());
      if (env != null) {
        fromEnvironment.add(s.variable() + "=" + env);
        continue;
      }
      try {
        if (c.mallopt(s.param(), s.value()) == 1) {
          set.add(s.words() + " " + (s.value() >> 20) + " MiB");
        } else {
          refused.add(s.words());
        }
      } catch (UnsatisfiedLinkError | RuntimeException e) {
        refused.add(s.words() + " (" + e.getMessage() + ")");
      }
    }
    StringBuilder b = new StringBuilder("glibc malloc:");
    if (!set.isEmpty()) {
      b.append(' ').append(String.join(", ", set)).append(" (set at start-up)");
    }
    if (!fromEnvironment.isEmpty()) {
      b.append(set.isEmpty() ? " " : "; ").append("from the environment ").append(String.join(" ", fromEnvironment));
    }
    if (!refused.isEmpty()) {
      b.append(set.isEmpty() && fromEnvironment.isEmpty() ? " " : "; ")
          .append("refused by the C library (not glibc?), its default applies: ").append(String.join(", ", refused));
    }
    state = b.toString();
    return state;
  }

  /** The allocator settings in force, in words, for `bench` and the logs. */
  public static synchronized String describe() {
    return state;
  }
}
