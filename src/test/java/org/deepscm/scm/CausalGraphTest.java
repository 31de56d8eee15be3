package org.deepscm.scm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CausalGraphTest {
  private static final Variable A = Variable.positive("age", "years");
  private static final Variable S = Variable.binary("sex", "female", "male");
  private static final Variable B = Variable.positive("brain", "ml");
  private static final Variable V = Variable.positive("ventricles", "ml");

  private static CausalGraph brain() {
    return new CausalGraph(List.of(A, S, B, V),
        Map.of("brain", List.of("age", "sex"), "ventricles", List.of("age", "brain")));
  }

  @Test
  void ordersParentsBeforeChildren() {
    List<String> order = brain().topologicalOrder();
    assertTrue(order.indexOf("age") < order.indexOf("brain"));
    assertTrue(order.indexOf("sex") < order.indexOf("brain"));
    assertTrue(order.indexOf("brain") < order.indexOf("ventricles"));
    assertEquals(Set.of("brain", "ventricles"), brain().descendants(List.of("sex")));
  }

  @Test
  void mutilationCutsIncomingEdgesOnly() {
    CausalGraph cut = brain().mutilate(List.of("brain"));
    assertEquals(List.of(), cut.parents("brain"));
    assertEquals(List.of("age", "brain"), cut.parents("ventricles"));
    assertEquals(List.of("age", "sex"), brain().parents("brain"), "the original graph is unchanged");
  }

  @Test
  void cycleIsAnErrorThatNamesItsVariables() {
    InvalidModelException e = assertThrows(InvalidModelException.class, () -> new CausalGraph(List.of(A, B, V),
        Map.of("brain", List.of("ventricles"), "ventricles", List.of("brain"))));
    assertTrue(e.getMessage().contains("cycle") && e.getMessage().contains("brain")
        && e.getMessage().contains("ventricles"), e.getMessage());
  }

  @Test
  void unknownParentDuplicateNameAndSelfLoopAreErrors() {
    InvalidModelException unknown = assertThrows(InvalidModelException.class,
        () -> new CausalGraph(List.of(A, B), Map.of("brain", List.of("height"))));
    assertTrue(unknown.getMessage().contains("unknown parent 'height'"), unknown.getMessage());
    InvalidModelException dup = assertThrows(InvalidModelException.class,
        () -> new CausalGraph(List.of(A, A), Map.of()));
    assertTrue(dup.getMessage().contains("duplicate variable name 'age'"), dup.getMessage());
    InvalidModelException self = assertThrows(InvalidModelException.class,
        () -> new CausalGraph(List.of(A), Map.of("age", List.of("age"))));
    assertTrue(self.getMessage().contains("own parent"), self.getMessage());
    assertThrows(InvalidModelException.class, () -> brain().variable("weight"));
    assertThrows(InvalidModelException.class, () -> Variable.positive("bad name", ""));
  }
}
