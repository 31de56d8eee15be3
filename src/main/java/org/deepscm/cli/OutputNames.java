package org.deepscm.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Checks of the names given to options that write files, made before any work: a table of values in a
 * file named .png (or an image in one named .csv) is a mistake the user only finds when the file will not open.
 */
final class OutputNames {
  private OutputNames() {}

  /** Endings of image and volume files, longest first where one ends another (.nii.gz before .gz). */
  static final List<String> IMAGE_ENDINGS = List.of(".nii.gz", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif",
      ".tiff", ".nii");

  /** Endings of the value files the CLI writes. */
  static final List<String> DATA_ENDINGS = List.of(".csv", ".json");

  /**
   * Refuses an image's name for an option that writes values ({@code writes}, e.g. "the answers as CSV");
   * {@code instead} says where an image goes, or is null when the command writes none.
   */
  static void refuseImageName(Path file, String option, String writes, String instead) {
    String ending = ending(file, IMAGE_ENDINGS);
    if (ending != null) {
      throw new IllegalArgumentException(option + " " + file + " is named like an image (" + ending + "), but "
          + option + " writes " + writes + (instead != null ? "; " + instead : "") + " (nothing was computed)");
    }
  }

  /** Refuses a CSV's or JSON's name for an option that writes images; {@code instead}: where values go. */
  static void refuseDataName(Path file, String option, String instead) {
    String ending = ending(file, DATA_ENDINGS);
    if (ending != null) {
      throw new IllegalArgumentException(option + " " + file + " is named like a data file (" + ending + "), but "
          + option + " writes PNG images; " + instead + " (nothing was computed)");
    }
  }

  /** The ending of {@code file}'s name among {@code endings}, in any case; null when none. */
  static String ending(Path file, List<String> endings) {
    Path name = file.getFileName();
    if (name == null) {
      return null;
    }
    String lower = name.toString().toLowerCase(Locale.ROOT);
    for (String e : endings) {
      if (lower.endsWith(e) && lower.length() > e.length()) {
        return e;
      }
    }
    return null;
  }
}
