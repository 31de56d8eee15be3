package org.deepscm.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Seeded samples of units that keep the proportions of their strata (e.g. MNIST digit classes,
 * which the data store class by class): a measure on part of a split must never be "the first N".
 */
public final class StratifiedSample {
  private StratifiedSample() {}

  /**
   * {@code n} of the units, each stratum contributing its share of {@code n} (largest remainder, so the
   * shares sum to exactly {@code n}), chosen at random within the stratum; every unit when {@code n}
   * is at least their number. Unit indices ascending.
   *
   * @param strata the stratum of each unit (non-negative)
   */
  public static int[] of(int[] strata, int n, long seed) {
    if (n < 0) {
      throw new IllegalArgumentException("sample size must not be negative, got " + n);
    }
    if (n >= strata.length) {
      int[] all = new int[strata.length];
      Arrays.setAll(all, u -> u);
      return all;
    }
    List<int[]> groups = shuffledGroups(strata, seed);
    int[] share = shares(groups, strata.length, n);
    int[] out = new int[n];
    int k = 0;
    for (int g = 0; g < groups.size(); g++) {
      for (int j = 0; j < share[g]; j++) {
        out[k++] = groups.get(g)[j];
      }
    }
    Arrays.sort(out);
    return out;
  }

  /**
   * Every unit once, in an order that takes one unit of each stratum in turn (a seeded random one
   * each time): any window of consecutive units shows the strata evenly, so a page of 20 of ten
   * classes holds two of each while the classes last.
   */
  public static int[] interleaved(int[] strata, long seed) {
    List<int[]> groups = shuffledGroups(strata, seed);
    int[] out = new int[strata.length];
    int k = 0;
    for (int round = 0; k < out.length; round++) {
      for (int[] g : groups) {
        if (round < g.length) {
          out[k++] = g[round];
        }
      }
    }
    return out;
  }

  /** The units of each non-empty stratum, in stratum order, each group shuffled with its own seed. */
  private static List<int[]> shuffledGroups(int[] strata, long seed) {
    int max = -1;
    for (int s : strata) {
      if (s < 0) {
        throw new IllegalArgumentException("strata must be non-negative, got " + s);
      }
      max = Math.max(max, s);
    }
    List<int[]> groups = new ArrayList<>();
    for (int s = 0; s <= max; s++) {
      int count = 0;
      for (int x : strata) {
        count += x == s ? 1 : 0;
      }
      if (count == 0) {
        continue;
      }
      int[] g = new int[count];
      int k = 0;
      for (int u = 0; u < strata.length; u++) {
        if (strata[u] == s) {
          g[k++] = u;
        }
      }
      // java.util.Random is specified exactly: the same sample on every JVM
      Random rng = new Random(seed * 1_000_003L + s);
      for (int i = g.length - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = g[i];
        g[i] = g[j];
        g[j] = t;
      }
      groups.add(g);
    }
    return groups;
  }

  /** Largest-remainder shares of n in proportion to the group sizes. */
  private static int[] shares(List<int[]> groups, int total, int n) {
    int[] out = new int[groups.size()];
    double[] rem = new double[groups.size()];
    int sum = 0;
    for (int g = 0; g < out.length; g++) {
      double exact = (double) n * groups.get(g).length / total;
      out[g] = (int) Math.floor(exact);
      rem[g] = exact - out[g];
      sum += out[g];
    }
    while (sum < n) {
      int best = -1;
      for (int g = 0; g < out.length; g++) {
        if (out[g] < groups.get(g).length && (best < 0 || rem[g] > rem[best])) {
          best = g;
        }
      }
      out[best]++;
      rem[best] = -1;
      sum++;
    }
    return out;
  }
}
