package org.deepscm.image;

import com.google.gson.JsonObject;
import org.deepscm.scm.InvalidModelException;

/**
 * Sizes of the encoder and decoder of an {@link ImageMechanism} (paper Appendix A.2 for
 * Morpho-MNIST). Images are {@code channels x height x width}; height and width must be divisible
 * by 4 (two stride-2 steps down in the encoder, two nearest-neighbour x2 steps up in the decoder).
 *
 * <pre>
 * encoder q(z | x, pa): Conv(c -> encConv1, k4 s2 p1), LeakyReLU(0.1)
 *                       -> Conv(encConv1 -> encConv2, k4 s2 p1), BN, LeakyReLU
 *                       -> Linear(encConv2 * h/4 * w/4 -> encHidden), BN, LeakyReLU
 *   head:               concat(h, pa-hat) -> Linear(headHidden), ReLU -> [Linear(zDim) mean, Linear(zDim) log-var]
 * decoder mu(z, pa):    Linear([z, pa-hat] -> decHidden), BN, ReLU
 *                       -> Linear(-> decConv1 * h/4 * w/4), BN, ReLU, reshape (decConv1, h/4, w/4)
 *                       -> upsample x2, Conv(decConv1 -> decConv2, k3 p1), BN, ReLU
 *                       -> upsample x2, Conv(decConv2 -> c, k3 p1) -> Conv(c -> c, k1) = mean in logit space
 * </pre>
 *
 * The reference uses transposed convolutions (k4 s2 p1) to go up; DJL's PyTorch engine has none,
 * so each is replaced by nearest-neighbour upsampling followed by a 3x3 convolution.
 *
 * <p>With {@code parentFilm} the parents reach the decoder at every scale, not only its first layer:
 * each of its two feature maps (h/4 and h/2) is modulated channel by channel before its ReLU,
 * h * (1 + gamma(pa)) + beta(pa), with gamma and beta linear in the normalised parents (FiLM, Perez
 * et al. 2018). Both start at zero, so a model without them is the same function with them, and a
 * model folder without the field reads as before.
 */
public record ImageArchitecture(
    int channels, int height, int width, int zDim, int encConv1, int encConv2, int encHidden, int headHidden,
    int decHidden, int decConv1, int decConv2, boolean parentFilm) {

  /** Networks whose decoder sees the parents at its first layer only (the paper's). */
  public ImageArchitecture(int channels, int height, int width, int zDim, int encConv1, int encConv2, int encHidden,
      int headHidden, int decHidden, int decConv1, int decConv2) {
    this(channels, height, width, zDim, encConv1, encConv2, encHidden, headHidden, decHidden, decConv1, decConv2,
        false);
  }

  /** The same networks with the parents at every scale of the decoder. */
  public ImageArchitecture withParentFilm() {
    return new ImageArchitecture(channels, height, width, zDim, encConv1, encConv2, encHidden, headHidden, decHidden,
        decConv1, decConv2, true);
  }

  /** The same networks with the parents at the decoder's first layer only. */
  public ImageArchitecture withoutParentFilm() {
    return new ImageArchitecture(channels, height, width, zDim, encConv1, encConv2, encHidden, headHidden, decHidden,
        decConv1, decConv2, false);
  }

  public ImageArchitecture {
    int[] sizes = {channels, height, width, zDim, encConv1, encConv2, encHidden, headHidden, decHidden, decConv1,
        decConv2};
    for (int s : sizes) {
      if (s < 1) {
        throw new InvalidModelException("image network sizes must be positive: " + describe(sizes));
      }
    }
    if (height % 4 != 0 || width % 4 != 0) {
      throw new InvalidModelException(
          "image height and width must be divisible by 4 for the image networks, got " + height + "x" + width);
    }
  }

  private static String describe(int[] s) {
    return java.util.Arrays.toString(s);
  }

  /** The paper's Morpho-MNIST networks: 28x28 grey images, z in R^16. */
  public static ImageArchitecture morphoMnist() {
    return new ImageArchitecture(1, 28, 28, 16, 64, 128, 100, 100, 1024, 128, 64);
  }

  /** A tiny network of the same structure, for tests. */
  public static ImageArchitecture tiny(int height, int width) {
    return new ImageArchitecture(1, height, width, 4, 4, 8, 16, 16, 32, 8, 4);
  }

  public int pixels() {
    return channels * height * width;
  }

  /** Length of one unit's noise vector: z followed by the flattened u. */
  public int noiseSize() {
    return zDim + pixels();
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("channels", channels);
    o.addProperty("height", height);
    o.addProperty("width", width);
    o.addProperty("z_dim", zDim);
    o.addProperty("enc_conv1", encConv1);
    o.addProperty("enc_conv2", encConv2);
    o.addProperty("enc_hidden", encHidden);
    o.addProperty("head_hidden", headHidden);
    o.addProperty("dec_hidden", decHidden);
    o.addProperty("dec_conv1", decConv1);
    o.addProperty("dec_conv2", decConv2);
    if (parentFilm) {
      o.addProperty("parent_film", true);
    }
    return o;
  }

  /** @throws InvalidModelException naming a missing or bad field */
  public static ImageArchitecture fromJson(JsonObject o) {
    return new ImageArchitecture(field(o, "channels"), field(o, "height"), field(o, "width"), field(o, "z_dim"),
        field(o, "enc_conv1"), field(o, "enc_conv2"), field(o, "enc_hidden"), field(o, "head_hidden"),
        field(o, "dec_hidden"), field(o, "dec_conv1"), field(o, "dec_conv2"), parentFilm(o));
  }

  /** Absent in model folders written before parents reached every scale: false. */
  private static boolean parentFilm(JsonObject o) {
    if (!o.has("parent_film")) {
      return false;
    }
    com.google.gson.JsonElement e = o.get("parent_film");
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw new InvalidModelException("image architecture: field 'parent_film' must be true or false, got " + e);
    }
    return e.getAsBoolean();
  }

  private static int field(JsonObject o, String name) {
    if (!o.has(name) || !o.get(name).isJsonPrimitive()) {
      throw new InvalidModelException("image architecture: missing field '" + name + "'");
    }
    try {
      return o.get(name).getAsInt();
    } catch (RuntimeException e) {
      throw new InvalidModelException("image architecture: field '" + name + "' must be a whole number");
    }
  }
}
