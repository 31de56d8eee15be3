package org.deepscm.train;

import java.util.List;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.Variable;

/**
 * The three structural causal models of the Morpho-MNIST case study (paper Fig. 2), one builder,
 * three graphs:
 *
 * <ul>
 *   <li>independent: t, i and the image x all independent (the decoder sees z only);
 *   <li>conditional: t and i independent, x caused by both (a conditional decoder);
 *   <li>full: t causes i, and both cause x (the true graph of Eq. 7).
 * </ul>
 *
 * Without the image, the covariate models: "conditional" then equals "independent".
 */
public final class MorphoMnistModels {
  public static final List<String> GRAPHS = List.of("full", "conditional", "independent");
  /** Context network of i given t in the shipped models: 1 -> 8 -> 16 -> 2 (LeakyReLU 0.1). */
  public static final Integer[] INTENSITY_CONTEXT_HIDDEN = {8, 16};

  private MorphoMnistModels() {}

  public static Variable thickness() {
    return Variable.positive("t", "pixels");
  }

  public static Variable intensity() {
    return Variable.bounded("i", "0-255", 0, 255);
  }

  public static Variable image() {
    return Variable.image("x", 28, 28);
  }

  /** The covariate model of a graph (t and i only). */
  public static ScmBuilder builder(String graph) {
    return builder(graph, false);
  }

  public static ScmBuilder builder(String graph, boolean withImage) {
    ScmBuilder b = new ScmBuilder().variable(thickness());
    switch (graph) {
      case "full" -> b.variable(intensity(), "t");
      case "conditional", "independent" -> b.variable(intensity());
      default -> throw new InvalidModelException(
          "unknown Morpho-MNIST graph '" + graph + "'; choose one of " + GRAPHS);
    }
    if (withImage) {
      if (graph.equals("independent")) {
        b.variable(image());
      } else {
        b.variable(image(), "t", "i");
      }
    }
    return b;
  }
}
