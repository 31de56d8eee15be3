package org.deepscm.app;

import ai.djl.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javafx.application.Application;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Group;
import javafx.scene.Scene;
import javafx.scene.control.Alert;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.TableColumn;
import javafx.scene.control.TableView;
import javafx.scene.layout.BorderPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Pane;
import javafx.scene.layout.VBox;
import javafx.scene.paint.Color;
import javafx.scene.shape.Line;
import javafx.scene.shape.Polygon;
import javafx.scene.shape.Rectangle;
import javafx.scene.text.Font;
import javafx.scene.text.Text;
import javafx.stage.DirectoryChooser;
import javafx.stage.Stage;
import org.deepscm.Launcher;
import org.deepscm.cli.ModelOption;
import org.deepscm.scm.CausalGraph;
import org.deepscm.scm.ModelFolder;
import org.deepscm.scm.SavedModel;
import org.deepscm.scm.Variable;

/**
 * The explorer window. This first version shows the loaded model's causal graph and its
 * variables; the live counterfactual explorer builds on it.
 */
public final class ExplorerApp extends Application {
  private static volatile Path initialModel = ModelOption.DEFAULT;

  private final BorderPane root = new BorderPane();
  private final Label status = new Label();
  private SavedModel model;

  /** Opens the window (blocks until it is closed). */
  public static void open(Path modelFolder) {
    Launcher.configure();
    initialModel = modelFolder;
    Application.launch(ExplorerApp.class);
  }

  @Override
  public void start(Stage stage) {
    Button openButton = new Button("Open model…");
    openButton.setOnAction(e -> {
      DirectoryChooser chooser = new DirectoryChooser();
      chooser.setTitle("Choose a model folder");
      Path models = Path.of("models");
      if (Files.isDirectory(models)) {
        chooser.setInitialDirectory(models.toFile());
      }
      var dir = chooser.showDialog(stage);
      if (dir != null) {
        load(dir.toPath());
      }
    });
    HBox top = new HBox(10, openButton);
    top.setPadding(new Insets(8));
    root.setTop(top);
    status.setPadding(new Insets(4, 8, 4, 8));
    root.setBottom(status);
    load(initialModel);
    stage.setTitle("DeepSCM Explorer");
    stage.setScene(new Scene(root, 900, 560));
    stage.show();
  }

  /** Loads a model folder; a bad one gives a dialog that names the problem and keeps the current model. */
  void load(Path folder) {
    SavedModel loaded;
    try {
      loaded = ModelFolder.load(org.deepscm.AppPaths.resolve(folder));
    } catch (RuntimeException e) {
      Alert alert = new Alert(Alert.AlertType.ERROR, e.getMessage());
      alert.setHeaderText("Cannot open model " + folder);
      alert.show();
      if (model == null) {
        root.setCenter(new Label("No model loaded: " + e.getMessage()));
        status.setText("no model");
      }
      return;
    }
    if (model != null) {
      model.close();
    }
    model = loaded;
    BorderPane center = new BorderPane();
    center.setCenter(graphView(model.scm().graph()));
    center.setRight(variableTable(model));
    root.setCenter(center);
    status.setText("model " + model.name() + " (" + folder + ")   device " + Engine.getInstance().defaultDevice());
  }

  static Pane graphView(CausalGraph graph) {
    double nodeW = 120;
    double nodeH = 44;
    GraphLayout.Placement placement = GraphLayout.layout(graph, nodeW, nodeH);
    Map<String, double[]> pos = new HashMap<>();
    placement.topLeft().forEach((v, p) -> pos.put(v, new double[] {40 + p[0] + nodeW / 2, 30 + p[1] + nodeH / 2}));
    Group g = new Group();
    for (String[] e : graph.edges()) {
      double[] a = pos.get(e[0]);
      double[] b = pos.get(e[1]);
      Line line = new Line(a[0], a[1] + nodeH / 2, b[0], b[1] - nodeH / 2);
      line.setStrokeWidth(2);
      double ang = Math.atan2(line.getEndY() - line.getStartY(), line.getEndX() - line.getStartX());
      Polygon head = new Polygon(line.getEndX(), line.getEndY(),
          line.getEndX() - 10 * Math.cos(ang - 0.4), line.getEndY() - 10 * Math.sin(ang - 0.4),
          line.getEndX() - 10 * Math.cos(ang + 0.4), line.getEndY() - 10 * Math.sin(ang + 0.4));
      g.getChildren().addAll(line, head);
    }
    for (Variable v : graph.variables()) {
      double[] p = pos.get(v.name());
      Rectangle box = new Rectangle(p[0] - nodeW / 2, p[1] - nodeH / 2, nodeW, nodeH);
      box.setArcWidth(v.kind().isDiscrete() ? 0 : 24);
      box.setArcHeight(v.kind().isDiscrete() ? 0 : 24);
      box.setFill(v.kind().isDiscrete() ? Color.web("#fde2c8") : Color.web("#d6e8fa"));
      box.setStroke(Color.web("#3a4a5a"));
      Text label = new Text(v.name() + (v.unit().isEmpty() ? "" : " [" + v.unit() + "]"));
      label.setFont(Font.font(15));
      label.setX(p[0] - label.getLayoutBounds().getWidth() / 2);
      label.setY(p[1] + 5);
      label.setId("node-" + v.name());
      g.getChildren().addAll(box, label);
    }
    Pane pane = new Pane(g);
    pane.setPadding(new Insets(10));
    return pane;
  }

  static VBox variableTable(SavedModel model) {
    TableView<Variable> table = new TableView<>();
    table.getItems().addAll(model.scm().graph().variables());
    table.getColumns().add(column("variable", Variable::name));
    table.getColumns().add(column("kind", v -> v.kind().name().toLowerCase(Locale.ROOT)));
    table.getColumns().add(column("unit", Variable::unit));
    table.getColumns().add(column("parents", v -> String.join(", ", model.scm().graph().parents(v.name()))));
    table.getColumns().add(column("training range", v -> {
      double[] r = model.trainingRange(v.name());
      return r == null ? "" : String.format(Locale.ROOT, "%.3g .. %.3g", r[0], r[1]);
    }));
    table.setPrefWidth(380);
    VBox box = new VBox(6, new Label("Variables"), table);
    box.setAlignment(Pos.TOP_LEFT);
    box.setPadding(new Insets(8));
    return box;
  }

  private static TableColumn<Variable, String> column(String title, java.util.function.Function<Variable, String> f) {
    TableColumn<Variable, String> c = new TableColumn<>(title);
    c.setCellValueFactory(d -> new javafx.beans.property.ReadOnlyStringWrapper(f.apply(d.getValue())));
    return c;
  }

  @Override
  public void stop() {
    if (model != null) {
      model.close();
    }
  }
}
