package org.deepscm.app;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.Variable;
import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkBendPoint;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

/**
 * Places the nodes of a causal graph in layers from top (causes) to bottom (effects) with ELK's
 * layered algorithm (Sugiyama style: few crossings, edges pointing down).
 */
public final class GraphLayout {
  /**
   * Top-left corner of each node; each edge's route (start, bend points, end as {x, y}) keyed
   * "cause->effect", going around the nodes it passes; the size of the whole drawing.
   */
  public record Placement(Map<String, double[]> topLeft, Map<String, List<double[]>> routes, double width,
      double height) {}

  static {
    LayoutMetaDataService.getInstance().registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
  }

  private GraphLayout() {}

  // one layout per graph and node size, kept: a model's graph never changes, and reopening it is instant
  private static final Map<List<Object>, CompletableFuture<Placement>> LAYOUTS = new ConcurrentHashMap<>();

  /**
   * {@link #layout}, on a thread of its own the first time it is asked for a graph, then from memory. The
   * explorer asks as soon as a model is read: ELK's first layout in a JVM (its classes and metadata) takes
   * about half a second, which the window's UI thread then does not wait for.
   */
  public static CompletableFuture<Placement> layoutInBackground(CausalGraph graph, double nodeWidth,
      double nodeHeight) {
    List<Object> key = List.of(graph.variables().stream().map(Variable::name).toList(),
        graph.edges().stream().map(e -> e[0] + "->" + e[1]).toList(), nodeWidth, nodeHeight);
    return LAYOUTS.computeIfAbsent(key, k -> CompletableFuture.supplyAsync(() -> layout(graph, nodeWidth, nodeHeight),
        task -> {
          Thread t = new Thread(task, "graph-layout");
          t.setDaemon(true);
          t.start();
        }));
  }

  public static Placement layout(CausalGraph graph, double nodeWidth, double nodeHeight) {
    ElkNode root = ElkGraphUtil.createGraph();
    root.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
    root.setProperty(LayeredOptions.DIRECTION, Direction.DOWN);
    root.setProperty(LayeredOptions.SPACING_NODE_NODE, 40.0);
    root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 50.0);
    Map<String, ElkNode> nodes = new LinkedHashMap<>();
    for (Variable v : graph.variables()) {
      ElkNode n = ElkGraphUtil.createNode(root);
      n.setIdentifier(v.name());
      n.setDimensions(nodeWidth, nodeHeight);
      nodes.put(v.name(), n);
    }
    Map<String, ElkEdge> edges = new LinkedHashMap<>();
    for (String[] e : graph.edges()) {
      edges.put(e[0] + "->" + e[1], ElkGraphUtil.createSimpleEdge(nodes.get(e[0]), nodes.get(e[1])));
    }
    new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
    Map<String, double[]> placed = new LinkedHashMap<>();
    nodes.forEach((name, n) -> placed.put(name, new double[] {n.getX(), n.getY()}));
    Map<String, List<double[]>> routes = new LinkedHashMap<>();
    edges.forEach((key, edge) -> {
      List<double[]> points = new ArrayList<>();
      ElkEdgeSection s = edge.getSections().get(0);
      points.add(new double[] {s.getStartX(), s.getStartY()});
      for (ElkBendPoint b : s.getBendPoints()) {
        points.add(new double[] {b.getX(), b.getY()});
      }
      points.add(new double[] {s.getEndX(), s.getEndY()});
      routes.put(key, points);
    });
    return new Placement(placed, routes, root.getWidth(), root.getHeight());
  }
}
