package org.deepscm.image;

import com.google.gson.JsonObject;
import org.deepscm.scm.InvalidModelException;

/**
 * Sizes of a {@link DeformationMechanism}'s networks. Images are {@code channels x height x width}, at
 * least 8 a side (three stride-2 steps in the encoder: 64 -> 8, 28 -> 3).
 *
 * <pre>
 * encoder q(z | x, pa):  Conv(c -> enc1, k4 s2 p1), LeakyReLU(0.1) -> Conv(enc1 -> enc2, k4 s2 p1), LeakyReLU
 *                        -> Conv(enc2 -> enc3, k4 s2 p1), LeakyReLU -> concat(flat, pa-hat)
 *                        -> Linear(encHidden), LeakyReLU -> [Linear(zDim) mean, Linear(zDim) log-var]
 * parents' velocity:     pa-hat -> Linear(parentHidden), LeakyReLU -> Linear(parentHidden), LeakyReLU = h
 *                        -> Linear(2 x parentGrid^2), bilinear up to h x w        (the parents' effect)
 *                        + sum over parentModes j of s_j(h) P_j(z): Linear(h -> modes) scalars times
 *                        Linear(z -> modes x 2 x parentGrid^2) fields: an effect whose place follows the
 *                        subject (where this slice's ventricles lie), whose size follows the parents
 * subject's velocity:    z -> Linear(2 x subjectGrid^2), bilinear up            (the case's own shape)
 * appearance:            a learned template (c x h x w) + Linear(z -> appearanceGrid^2), bilinear up; with
 *                        appearanceHidden > 0 a hidden layer first (z -> Linear(appearanceHidden), LeakyReLU),
 *                        and with appearanceParents the parents beside z: a change of the parents then adds or
 *                        removes matter in the template's frame (a digit's stroke thickened), which no warp can
 * gain:                  log g = Linear([z, pa-hat] -> gainGrid^2), bilinear up (without gainFromZ:
 *                        Linear(pa-hat), so the parents alone set the brightness, a power of each positive
 *                        parent encoded by its log)
 * </pre>
 *
 * phi = exp(v_parents + v_subject) (or, with composeWarps, exp(v_parents) o exp(v_subject): the subject's warp
 * first, so the parents' field acts in the template's frame), integrated by scaling and squaring in {@code steps} steps on a
 * {@code fieldGrid} x {@code fieldGrid} grid (the velocities are smooth; VoxelMorph integrates at half the
 * image's resolution too), then brought up to the image bilinearly. Fields are composed on that grid too;
 * only the image is sampled at its own resolution.
 */
public record DeformationArchitecture(int channels, int height, int width, int zDim, int enc1, int enc2, int enc3,
    int encHidden, int parentHidden, int parentGrid, int subjectGrid, int appearanceGrid, int gainGrid, int steps,
    int fieldGrid, int parentModes, int appearanceHidden, boolean appearanceParents, boolean composeWarps,
    boolean gainFromZ) {

  /** Networks whose appearance is a linear function of z alone (the brain's). */
  public DeformationArchitecture(int channels, int height, int width, int zDim, int enc1, int enc2, int enc3,
      int encHidden, int parentHidden, int parentGrid, int subjectGrid, int appearanceGrid, int gainGrid, int steps,
      int fieldGrid, int parentModes) {
    this(channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden, parentGrid, subjectGrid,
        appearanceGrid, gainGrid, steps, fieldGrid, parentModes, 0, false, false, true);
  }

  public DeformationArchitecture {
    int[] sizes = {channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden, parentGrid, subjectGrid,
        appearanceGrid, gainGrid, steps, fieldGrid};
    for (int s : sizes) {
      if (s < 1) {
        throw new InvalidModelException("deformation network sizes must be positive: " + toJson());
      }
    }
    if (height < 8 || width < 8) {
      throw new InvalidModelException("a deformation mechanism needs images of at least 8 x 8 pixels; got "
          + height + " x " + width);
    }
    if (appearanceHidden < 0 || appearanceHidden > 4096) {
      throw new InvalidModelException("the appearance's hidden layer has 0 .. 4096 units; got " + appearanceHidden);
    }
    for (int g : new int[] {parentGrid, subjectGrid, appearanceGrid, gainGrid, fieldGrid}) {
      if (g < 2 || g > Math.min(height, width)) {
        throw new InvalidModelException("deformation grids must have 2 .. " + Math.min(height, width)
            + " points a side; got " + g);
      }
    }
    if (parentGrid > fieldGrid || subjectGrid > fieldGrid) {
      throw new InvalidModelException("the velocity grids (" + parentGrid + ", " + subjectGrid + ") must not be finer "
          + "than the grid they are integrated on (" + fieldGrid + ")");
    }
    if (parentModes < 0 || parentModes > 16) {
      throw new InvalidModelException("the parents' velocity has 0 .. 16 subject-shaped modes; got " + parentModes);
    }
    if (steps > 12) {
      throw new InvalidModelException("scaling and squaring with " + steps + " steps; at most 12");
    }
  }

  /**
   * The sizes for a 64 x 64 brain slice: the parents' velocity on 32 x 32 points, the subject's on 8 x 8 (the
   * synthetic world warps each subject on 8 x 8 control points), the appearance on 16 x 16 (slices from
   * different heights differ by more than a warp), the gain on 4 x 4; z of 16; integrated on 32 x 32.
   */
  public static DeformationArchitecture brain(int height, int width) {
    return new DeformationArchitecture(1, height, width, 16, 16, 32, 32, 128, 64, 32, 8, 16, 4, 7,
        Math.min(height, width) / 2, 0);
  }

  /**
   * The sizes for a 28 x 28 Morpho-MNIST digit: no shared template (every digit is its own), so the appearance
   * is a small decoder of z and the parents (256 hidden units, full resolution): thickening a stroke adds ink,
   * which a warp cannot; the parents' velocity with 8 fields placed by z and sized by the parents (where a
   * stroke thickens depends on the digit), 14 x 14; the subject's pose on 7 x 7; the gain on 2 x 2 (intensity
   * is one brightness per digit); integrated at full resolution (strokes are 1 to 8 pixels wide); z of 16.
   */
  public static DeformationArchitecture morphoMnist() {
    return new DeformationArchitecture(1, 28, 28, 16, 16, 32, 32, 128, 64, 14, 7, 28, 2, 7, 28, 8, 256, true,
        false, true);
  }

  /** The same networks with the parents' velocity on {@code parentGrid} and the appearance on {@code appearanceGrid}
   * points a side (checked as any architecture's). */
  public DeformationArchitecture withGrids(int parentGrid, int appearanceGrid) {
    return new DeformationArchitecture(channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden,
        parentGrid, subjectGrid, appearanceGrid, gainGrid, steps, fieldGrid, parentModes, appearanceHidden,
        appearanceParents, composeWarps, gainFromZ);
  }

  /** The same networks with {@code modes} subject-shaped modes in the parents' velocity. */
  public DeformationArchitecture withParentModes(int modes) {
    return new DeformationArchitecture(channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden,
        parentGrid, subjectGrid, appearanceGrid, gainGrid, steps, fieldGrid, modes, appearanceHidden,
        appearanceParents, composeWarps, gainFromZ);
  }

  /** The same networks with the parents' warp after the subject's (true) or both in one velocity (false). */
  public DeformationArchitecture withComposedWarps(boolean compose) {
    return new DeformationArchitecture(channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden,
        parentGrid, subjectGrid, appearanceGrid, gainGrid, steps, fieldGrid, parentModes, appearanceHidden,
        appearanceParents, compose, gainFromZ);
  }

  /** The same networks with the gain a function of the parents alone (false) or of z too (true). */
  public DeformationArchitecture withGainFromZ(boolean fromZ) {
    return new DeformationArchitecture(channels, height, width, zDim, enc1, enc2, enc3, encHidden, parentHidden,
        parentGrid, subjectGrid, appearanceGrid, gainGrid, steps, fieldGrid, parentModes, appearanceHidden,
        appearanceParents, composeWarps, fromZ);
  }

  public int pixels() {
    return channels * height * width;
  }

  public int noiseSize() {
    return zDim + pixels();
  }

  /** Values flattened by the encoder's three stride-2 convolutions. */
  int encoderFlat() {
    return enc3 * encoded(height) * encoded(width);
  }

  /** A side after three convolutions of kernel 4, stride 2, padding 1. */
  static int encoded(int side) {
    int s = side;
    for (int k = 0; k < 3; k++) {
      s = (s + 2 - 4) / 2 + 1;
    }
    return s;
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("channels", channels);
    o.addProperty("height", height);
    o.addProperty("width", width);
    o.addProperty("z_dim", zDim);
    o.addProperty("enc1", enc1);
    o.addProperty("enc2", enc2);
    o.addProperty("enc3", enc3);
    o.addProperty("enc_hidden", encHidden);
    o.addProperty("parent_hidden", parentHidden);
    o.addProperty("parent_grid", parentGrid);
    o.addProperty("subject_grid", subjectGrid);
    o.addProperty("appearance_grid", appearanceGrid);
    o.addProperty("gain_grid", gainGrid);
    o.addProperty("steps", steps);
    o.addProperty("field_grid", fieldGrid);
    o.addProperty("parent_modes", parentModes);
    o.addProperty("appearance_hidden", appearanceHidden);
    o.addProperty("appearance_parents", appearanceParents);
    o.addProperty("compose_warps", composeWarps);
    o.addProperty("gain_from_z", gainFromZ);
    return o;
  }

  public static DeformationArchitecture fromJson(JsonObject o) {
    String[] keys = {"channels", "height", "width", "z_dim", "enc1", "enc2", "enc3", "enc_hidden", "parent_hidden",
        "parent_grid", "subject_grid", "appearance_grid", "gain_grid", "steps", "field_grid"};
    int[] v = new int[keys.length];
    for (int k = 0; k < keys.length; k++) {
      if (!o.has(keys[k])) {
        throw new InvalidModelException("deformation architecture has no '" + keys[k] + "'");
      }
      v[k] = o.get(keys[k]).getAsInt();
    }
    // folders written before the modes existed have none: the parents' velocity is the same for every subject
    int modes = o.has("parent_modes") ? o.get("parent_modes").getAsInt() : 0;
    // ... nor an appearance decoder: the appearance is linear in z
    int hidden = o.has("appearance_hidden") ? o.get("appearance_hidden").getAsInt() : 0;
    boolean parents = o.has("appearance_parents") && o.get("appearance_parents").getAsBoolean();
    // ... nor composed warps: one velocity, the parents' and the subject's summed
    boolean compose = o.has("compose_warps") && o.get("compose_warps").getAsBoolean();
    // ... and a gain of z and the parents
    boolean gainFromZ = !o.has("gain_from_z") || o.get("gain_from_z").getAsBoolean();
    return new DeformationArchitecture(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
        v[12], v[13], v[14], modes, hidden, parents, compose, gainFromZ);
  }
}
