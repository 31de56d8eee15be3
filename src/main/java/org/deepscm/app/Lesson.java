package org.deepscm.app;

import java.util.ArrayList;
import java.util.List;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Variable;

/**
 * View > Lesson: one case walked up Pearl's ladder, for a class. Each step names the rung to show, a
 * sentence to read and the one control to touch (highlighted on screen); back and next move between them.
 */
final class Lesson {
  /** One step: the rung (0 association, 1 intervention, 2 counterfactual), what to read, what to touch. */
  record Step(int rung, String text, String control) {}

  private Lesson() {}

  /** The steps for the model on screen: its own variables, a cause and its effect where the graph has them. */
  static List<Step> steps(ExplorerSession s) {
    CausalGraph g = s.scm().graph();
    List<Variable> scalars = s.scalars();
    // a cause and an effect among the sliders: the brain's age -> ventricles, Morpho-MNIST's t -> i
    String cause = null;
    String effect = null;
    for (Variable a : scalars) {
      for (Variable b : scalars) {
        if (cause == null && !a.kind().isDiscrete() && !b.kind().isDiscrete() && isAncestor(g, a.name(), b.name())) {
          cause = a.name();
          effect = b.name();
        }
      }
    }
    if (s.isBrain()) {
      cause = "age";
      effect = "ventricle_volume";
    }
    List<Step> out = new ArrayList<>();
    String image = s.imageVariable() != null ? (s.isBrain() ? "brains" : "digits") : "units";
    if (cause == null) {
      String v = scalars.get(0).name();
      out.add(new Step(0, "Association: these " + image + " are drawn from the model. Look at how the values go "
          + "together; seeing is not yet doing.", "rung-association"));
      out.add(new Step(1, "Intervention: switch on do(" + v + ") and drag its slider: the samples below come from a "
          + "world where " + v + " is set by hand.", "do-" + v));
      out.add(new Step(2, "Counterfactual: this one case, had " + v + " been different, everything else about it "
          + "kept. Drag the slider.", "slider-" + v));
      return out;
    }
    out.add(new Step(0, "Association: these " + image + " are drawn from the model. Larger " + cause
        + " goes with larger " + effect + ". Seeing this does not say which causes which.", "rung-association"));
    out.add(new Step(1, "Intervention: switch on do(" + cause + ") and drag it. Set by hand, " + cause + " still "
        + "moves " + effect + " in the samples below: " + cause + " causes " + effect + ".", "do-" + cause));
    out.add(new Step(1, "Now switch do(" + cause + ") off and do(" + effect + ") on instead. Set " + effect
        + " by hand: " + cause + " stays as it was. The arrow runs one way.", "do-" + effect));
    out.add(new Step(2, "Counterfactual: this is one case. Drag " + cause + ": the same " + image.replaceAll("s$", "")
        + " had " + cause + " been different, its own noise kept (abducted from its image).", "slider-" + cause));
    if (s.imageVariable() != null) {
      out.add(new Step(2, "The difference map shows what the counterfactual changed: red brighter, blue darker. "
          + "That change is the answer to the question \"what if\".", "image-difference"));
    }
    return out;
  }

  private static boolean isAncestor(CausalGraph g, String a, String b) {
    for (String[] e : g.edges()) {
      if (e[1].equals(b) && (e[0].equals(a) || isAncestor(g, a, e[0]))) {
        return true;
      }
    }
    return false;
  }
}
