package org.deepscm.scm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The DAG of an SCM: variables in declaration order and each one's parents. Validated on
 * construction; immutable. {@link #mutilate} is the graph surgery of do().
 */
public final class CausalGraph {
  private final Map<String, Variable> variables = new LinkedHashMap<>();
  private final Map<String, List<String>> parents = new LinkedHashMap<>();
  private final List<String> order;

  /**
   * @param parents each variable's parents; a variable missing from the map is a root
   * @throws InvalidModelException on a duplicate name, an unknown parent, a self loop or a cycle
   */
  public CausalGraph(List<Variable> variables, Map<String, List<String>> parents) {
    for (Variable v : variables) {
      if (this.variables.put(v.name(), v) != null) {
        throw new InvalidModelException("duplicate variable name '" + v.name() + "'");
      }
    }
    for (String child : parents.keySet()) {
      if (!this.variables.containsKey(child)) {
        throw new InvalidModelException("parents given for unknown variable '" + child + "'");
      }
    }
    for (Variable v : variables) {
      List<String> ps = List.copyOf(parents.getOrDefault(v.name(), List.of()));
      Set<String> seen = new LinkedHashSet<>();
      for (String p : ps) {
        if (!this.variables.containsKey(p)) {
          throw new InvalidModelException(
              "variable '" + v.name() + "' has unknown parent '" + p + "'; known: " + this.variables.keySet());
        }
        if (p.equals(v.name())) {
          throw new InvalidModelException("variable '" + p + "' is its own parent");
        }
        if (!seen.add(p)) {
          throw new InvalidModelException("variable '" + v.name() + "' lists parent '" + p + "' twice");
        }
      }
      this.parents.put(v.name(), ps);
    }
    this.order = topologicalSort();
  }

  private List<String> topologicalSort() {
    Map<String, Integer> waiting = new LinkedHashMap<>();
    parents.forEach((child, ps) -> waiting.put(child, ps.size()));
    Deque<String> ready = new ArrayDeque<>();
    waiting.forEach((v, n) -> {
      if (n == 0) {
        ready.add(v);
      }
    });
    List<String> sorted = new ArrayList<>();
    while (!ready.isEmpty()) {
      String v = ready.poll();
      sorted.add(v);
      for (String child : children(v)) {
        if (waiting.merge(child, -1, Integer::sum) == 0) {
          ready.add(child);
        }
      }
    }
    if (sorted.size() < variables.size()) {
      List<String> inCycle = new ArrayList<>(variables.keySet());
      inCycle.removeAll(sorted);
      throw new InvalidModelException("the causal graph has a cycle through " + inCycle);
    }
    return List.copyOf(sorted);
  }

  public List<Variable> variables() {
    return List.copyOf(variables.values());
  }

  public boolean contains(String name) {
    return variables.containsKey(name);
  }

  public Variable variable(String name) {
    Variable v = variables.get(name);
    if (v == null) {
      throw new InvalidModelException("no variable named '" + name + "'; the model has " + variables.keySet());
    }
    return v;
  }

  public List<String> parents(String name) {
    variable(name);
    return parents.get(name);
  }

  public List<String> children(String name) {
    List<String> out = new ArrayList<>();
    parents.forEach((child, ps) -> {
      if (ps.contains(name)) {
        out.add(child);
      }
    });
    return out;
  }

  /** Variable names with every parent before its children. */
  public List<String> topologicalOrder() {
    return order;
  }

  /** Every variable reachable from the given ones along edges (not including them). */
  public Set<String> descendants(Collection<String> names) {
    Set<String> out = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(names);
    while (!todo.isEmpty()) {
      for (String child : children(todo.poll())) {
        if (out.add(child)) {
          todo.add(child);
        }
      }
    }
    out.removeAll(names);
    return out;
  }

  /** Edges as (parent, child) pairs. */
  public List<String[]> edges() {
    List<String[]> out = new ArrayList<>();
    parents.forEach((child, ps) -> ps.forEach(p -> out.add(new String[] {p, child})));
    return out;
  }

  /** The graph of do(): every intervened variable loses its incoming edges. */
  public CausalGraph mutilate(Collection<String> intervened) {
    Map<String, List<String>> cut = new LinkedHashMap<>(parents);
    for (String name : intervened) {
      variable(name);
      cut.put(name, List.of());
    }
    return new CausalGraph(variables(), cut);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (String v : order) {
      b.append(v);
      if (!parents.get(v).isEmpty()) {
        b.append(" <- ").append(String.join(", ", parents.get(v)));
      }
      b.append('\n');
    }
    return b.toString();
  }
}
