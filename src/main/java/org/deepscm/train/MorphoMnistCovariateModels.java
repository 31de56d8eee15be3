package org.deepscm.train;

import java.util.List;
import org.deepscm.scm.InvalidModelException;
import org.deepscm.scm.Variable;

/**
 * The covariate graphs of the Morpho-MNIST case study (paper Fig. 2): thickness t and intensity
 * i, with i caused by t in the "full" model and independent of it otherwise.
 */
public final class MorphoMnistCovariateModels {
  public static final List<String> GRAPHS = List.of("full", "independent");

  private MorphoMnistCovariateModels() {}

  public static Variable thickness() {
    return Variable.positive("t", "pixels");
  }

  public static Variable intensity() {
    return Variable.bounded("i", "0-255", 0, 255);
  }

  public static ScmBuilder builder(String graph) {
    return switch (graph) {
      case "full" -> new ScmBuilder().variable(thickness()).variable(intensity(), "t");
      case "independent", "conditional" -> new ScmBuilder().variable(thickness()).variable(intensity());
      default -> throw new InvalidModelException(
          "unknown Morpho-MNIST graph '" + graph + "'; choose one of " + GRAPHS);
    };
  }
}
