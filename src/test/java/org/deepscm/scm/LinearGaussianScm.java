package org.deepscm.scm;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deepscm.flow.FlowStep;
import org.deepscm.flow.ParameterSet;

/**
 * A linear-Gaussian SCM with closed-form answers, built from the same flow mechanisms as the
 * deep models:
 *
 * <pre>
 *   x := MU + SIGMA eps_x
 *   y := A x + B + S eps_y
 *   z := C y + D x + E + R eps_z
 * </pre>
 *
 * Coefficients are exact in float32 so the closed forms hold to rounding.
 */
public final class LinearGaussianScm {
  public static final double MU = 1.5, SIGMA = 2.0;
  public static final double A = 0.75, B = -1.0, LOG_S = 0.5;
  public static final double C = -1.25, D = 0.5, E = 3.0, LOG_R = -0.25;
  public static final double S = Math.exp(LOG_S), R = Math.exp(LOG_R);

  private LinearGaussianScm() {}

  public static StructuralCausalModel build() {
    NDManager manager = NDManager.newBaseManager();
    ParameterSet params = new ParameterSet(manager);
    Variable x = Variable.real("x", "");
    Variable y = Variable.real("y", "");
    Variable z = Variable.real("z", "");
    ContextEncoding ex = new ContextEncoding("x", false, 0, 1);
    ContextEncoding ey = new ContextEncoding("y", false, 0, 1);
    FlowMechanism fx = new FlowMechanism(x, List.of(), List.of(new FlowStep.Normalise(MU, SIGMA)), params);
    FlowMechanism fy = new FlowMechanism(y, List.of(ex), List.of(new FlowStep.ConditionalAffine(List.of())), params)
        .initParameters(new Random(0));
    FlowMechanism fz = new FlowMechanism(z, List.of(ey, ex), List.of(new FlowStep.ConditionalAffine(List.of())),
        params).initParameters(new Random(0));
    // context network: (loc, log-scale) = context . W + b
    params.put("y.0.conditional_affine.layer0.weight", manager.create(new float[] {(float) A, 0}, new Shape(1, 2)));
    params.put("y.0.conditional_affine.layer0.bias", manager.create(new float[] {(float) B, (float) LOG_S}));
    params.put("z.0.conditional_affine.layer0.weight",
        manager.create(new float[] {(float) C, 0, (float) D, 0}, new Shape(2, 2)));
    params.put("z.0.conditional_affine.layer0.bias", manager.create(new float[] {(float) E, (float) LOG_R}));
    CausalGraph graph = new CausalGraph(List.of(x, y, z), Map.of("y", List.of("x"), "z", List.of("y", "x")));
    return new StructuralCausalModel(graph, Map.of("x", fx, "y", fy, "z", fz), params);
  }
}
