package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import org.deepscm.flow.ParameterSet;
import org.deepscm.scm.ContextEncoding;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.Mechanism;
import org.deepscm.scm.Variable;

/**
 * An image mechanism x := f(noise; pa) with a latent part abducted by Monte Carlo: the family the
 * trainer's callers, evaluation, the explorer, the command line and the bench see. Two members:
 * the paper's amortised VAE mechanism ({@link VaeImageMechanism}) and a deformation of a template
 * ({@link DeformationMechanism}); model.json's {@code "kind"} names which (absent: the paper's).
 *
 * <p><b>Values.</b> An image batch is a float array of pixels 0..255, shape (N, H, W) for grey images
 * or (N, C, H, W); results come back clipped to [0, 255] and shaped like the input.
 *
 * <p><b>Counterfactuals.</b> An {@link Abduction} holds what the observed units fix (their images and
 * {@code particles} posterior draws per unit); one abduction answers any number of counterfactual
 * parents (the explorer keeps its case's while a slider moves). A counterfactual under the observed
 * parents returns the observed images.
 */
public interface ImageMechanism extends Mechanism {
  /** Monte-Carlo samples for counterfactuals and reconstructions (paper: 32). */
  int DEFAULT_PARTICLES = 32;
  /** Particles of the ELBO in training and in {@link #logProb} (paper: 4). */
  int ELBO_PARTICLES = 4;

  /** What an abduction of some units fixes; it owns native arrays: close it. */
  interface Abduction extends AutoCloseable {
    int units();

    int particles();

    @Override
    void close();
  }

  /** The name of this member of the family in model.json ("vae", "deformation"). */
  String kind();

  /** The parents as the networks see them (normalised). */
  List<ContextEncoding> context();

  int channels();

  int height();

  int width();

  /** The trainable weights. */
  ParameterSet weights();

  /** Every weight and running statistic by name, copied into {@code target}. */
  NDList snapshot(NDManager target);

  /**
   * Restores weights (and running statistics) by name from a list that may hold other arrays too.
   *
   * @throws IllegalArgumentException naming a missing, misshapen or non-finite array
   */
  void restore(NDList list, String source);

  /** The mechanism's description for model.json. */
  JsonObject toJson();

  /** A Monte-Carlo lower bound on log p(x | pa) per image (nats, pixels in 0..255 units). */
  NDArray elbo(NDArray value, Map<String, NDArray> parents, int particles);

  /** Abduction of {@code value} given its parents, its arrays in a new sub-manager of {@code owner}. */
  Abduction abduct(NDManager owner, NDArray value, Map<String, NDArray> parents, int particles);

  /** The counterfactual images under {@code counterfactualParents}, the mean over the particles, in {@code target}. */
  NDArray counterfactual(Abduction a, Map<String, NDArray> counterfactualParents, NDManager target);

  /** Abduction and counterfactual in one call, with {@code particles} particles, shaped like {@code value}. */
  NDArray counterfactual(NDArray value, Map<String, NDArray> parents, Map<String, NDArray> counterfactualParents,
      int particles);

  /** {@link #counterfactual(NDArray, Map, Map, int)} with the paper's 32 particles. */
  default NDArray counterfactual(NDArray value, Map<String, NDArray> parents,
      Map<String, NDArray> counterfactualParents) {
    return counterfactual(value, parents, counterfactualParents, DEFAULT_PARTICLES);
  }

  /**
   * The counterfactual images and each pixel's spread over the particles ({@link ParticleSpread}: both from the
   * same particle images, in one pass), in {@code target}; the spread is 0 where the answer is the observed image.
   */
  ParticleSpread.MeanAndSpread counterfactualWithSpread(Abduction a, Map<String, NDArray> counterfactualParents,
      NDManager target);

  /** Abduction and {@link #counterfactualWithSpread(Abduction, Map, NDManager)} in one call, in {@code value}'s manager. */
  ParticleSpread.MeanAndSpread counterfactualWithSpread(NDArray value, Map<String, NDArray> parents,
      Map<String, NDArray> counterfactualParents, int particles);

  /** What the model captures of the abducted images: the mean over particles of the noise-free image. */
  NDArray reconstruct(Abduction a, NDManager target);

  /** {@link #reconstruct(Abduction, NDManager)} of {@code value}, shaped like it. */
  default NDArray reconstruct(NDArray value, Map<String, NDArray> parents, int particles) {
    try (Abduction a = abduct(value.getManager(), value, parents, particles)) {
      return reconstruct(a, value.getManager());
    }
  }

  /** {@link #reconstruct(NDArray, Map, int)} with 32 particles. */
  default NDArray reconstruct(NDArray value, Map<String, NDArray> parents) {
    return reconstruct(value, parents, DEFAULT_PARTICLES);
  }

  /**
   * The reconstruction of some images of a data set, as {@code evaluate} measures it ({@code recon_mae}),
   * (rows, C, H, W) in {@code target}; the images themselves are {@code x}.
   */
  NDArray reconstruct(NDManager target, NDArray x, ImageData data, int[] rows, int particles);

  /** The normalised parents of some rows of a data set, row by row (null without parents). */
  float[] contextRows(ImageData data, int[] rows);

  /**
   * Floating-point operations of one image's counterfactual with {@code particles} particles
   * ({@code cached}: the abduction kept, as the explorer keeps it while a slider moves).
   */
  long counterfactualFlops(int particles, boolean cached);

  /** The image mechanism described by {@code o} (model.json), its weights zero until the folder's are read. */
  static ImageMechanism fromJson(JsonObject o, Variable variable, ParameterSet weights) {
    String kind = o.has("kind") ? o.get("kind").getAsString() : VaeImageMechanism.KIND;
    return switch (kind) {
      case VaeImageMechanism.KIND -> VaeImageMechanism.fromJson(o, variable, weights);
      case DeformationMechanism.KIND -> DeformationMechanism.fromJson(o, variable, weights);
      default -> throw new InvalidModelException("image mechanism of '" + variable.name() + "' is of kind '" + kind
          + "'; this version knows '" + VaeImageMechanism.KIND + "' and '" + DeformationMechanism.KIND + "'");
    };
  }
}
