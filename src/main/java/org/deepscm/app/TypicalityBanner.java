package org.deepscm.app;

import java.util.Locale;
import java.util.function.Consumer;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Tooltip;
import javafx.scene.layout.HBox;
import javafx.scene.layout.Priority;
import javafx.scene.layout.Region;
import javafx.scene.layout.VBox;
import org.deepscm.eval.Typicality;

/**
 * Bars above the explorer's view, never a blocking dialog: an amber warning when the observed case is
 * unlike the model's training data (its counterfactual may then not show the requested change), with
 * a button that brings a Morpho-MNIST digit into the model's world; and, while such a digit is in use,
 * a note that says so with a button back to the user's own image. Only the observed case is assessed,
 * once per case, so the bars stay still while sliders move.
 */
final class TypicalityBanner {
  private final LatestOnlyExecutor worker;
  private final Consumer<Runnable> ui;
  private final Consumer<ExplorerSession> caseChanged;
  private final Label warningText = new Label();
  private final Button bring = new Button("Bring into the model's world");
  private final HBox warning;
  private final Label ownNoteText = new Label();
  private final HBox ownNote;
  private final VBox root;
  private ExplorerSession session;
  // the case last asked about: an answer about an older case is not shown
  private long assessedCase;

  /**
   * @param worker runs the assessments and the bringing (model work) off the UI thread
   * @param ui posts work to the UI thread
   * @param caseChanged shows the session's new case (the banner's buttons replace it)
   */
  TypicalityBanner(LatestOnlyExecutor worker, Consumer<Runnable> ui, Consumer<ExplorerSession> caseChanged) {
    this.worker = worker;
    this.ui = ui;
    this.caseChanged = caseChanged;
    warningText.setId("typicality-text");
    warningText.setWrapText(true);
    warningText.setMaxWidth(Double.MAX_VALUE);
    // the whole explanation, wrapped over lines, never cut to "..."
    warningText.setMinHeight(Region.USE_PREF_SIZE);
    HBox.setHgrow(warningText, Priority.ALWAYS);
    bring.setId("bring-into-models-world");
    bring.setMinWidth(Region.USE_PREF_SIZE);
    bring.setTooltip(new Tooltip("Keeps your digit's shape and thickness and sets its intensity to the model's "
        + "typical intensity for that thickness, as the training digits were made. Your image is kept."));
    bring.setOnAction(e -> bringIntoModelsWorld());
    warning = bar("typicality-warning", "#ffe7a8", "#d49a00", warningText, bring);

    ownNoteText.setId("own-image-text");
    ownNoteText.setWrapText(true);
    ownNoteText.setMaxWidth(Double.MAX_VALUE);
    ownNoteText.setMinHeight(Region.USE_PREF_SIZE);
    HBox.setHgrow(ownNoteText, Priority.ALWAYS);
    Button useOwn = new Button("Use my original image");
    useOwn.setId("use-own-image");
    useOwn.setMinWidth(Region.USE_PREF_SIZE);
    useOwn.setOnAction(e -> useOwnCase());
    ownNote = bar("own-image-note", "#dcebfa", "#6a9ccf", ownNoteText, useOwn);

    root = new VBox(4, warning, ownNote);
    root.setPadding(new Insets(4, 8, 0, 8));
    show(warning, false);
    show(ownNote, false);
  }

  private static HBox bar(String id, String fill, String border, Label text, Button button) {
    HBox b = new HBox(10, text, button);
    b.setId(id);
    b.setAlignment(Pos.CENTER_LEFT);
    b.setPadding(new Insets(6, 10, 6, 10));
    b.setStyle("-fx-background-color: " + fill + "; -fx-border-color: " + border + "; -fx-border-radius: 3;"
        + " -fx-background-radius: 3;");
    return b;
  }

  private static void show(Node n, boolean visible) {
    n.setVisible(visible);
    n.setManaged(visible); // a hidden bar takes no room
  }

  Node root() {
    return root;
  }

  /** Assesses the session's observed case (call it on every new case) and shows what it finds. */
  void assess(ExplorerSession session) {
    this.session = session;
    long asked = ++assessedCase;
    show(warning, false);
    ExplorerSession.Case own = session.ownCase();
    show(ownNote, own != null);
    if (own != null) {
      ownNoteText.setText(String.format(Locale.ROOT, "Your digit is shown at the model's typical intensity for "
          + "its thickness: i = %s (your image: i = %s).", ExplorerView.fmt(session.observed().get("i")),
          ExplorerView.fmt(own.values().get("i"))));
    }
    worker.submit(superseded -> {
      try {
        Typicality.Assessment a = session.assess();
        ui.accept(() -> {
          if (asked == assessedCase) {
            showAssessment(a);
          }
        });
      } catch (RuntimeException e) {
        ui.accept(() -> {
          if (asked == assessedCase) {
            showWarning("Cannot check how typical this case is: " + e.getMessage(), false);
          }
        });
      }
    });
  }

  private void showAssessment(Typicality.Assessment a) {
    if (a.typical()) {
      show(warning, false);
      return;
    }
    // a digit already brought in offers no second bringing: the note offers the way back
    showWarning(a.explain(), session.canBringIntoModelsWorld() && session.ownCase() == null);
  }

  private void showWarning(String text, boolean offerBringing) {
    warningText.setText(text);
    show(bring, offerBringing);
    bring.setDisable(false);
    show(warning, true);
  }

  private void bringIntoModelsWorld() {
    ExplorerSession asked = session;
    bring.setDisable(true);
    worker.submit(superseded -> {
      try {
        boolean replaced = asked.bringIntoModelsWorld();
        ui.accept(() -> {
          if (replaced && asked == session) {
            caseChanged.accept(asked);
          } else {
            bring.setDisable(false);
          }
        });
      } catch (RuntimeException e) {
        ui.accept(() -> showWarning("Cannot bring this digit into the model's world: " + e.getMessage(), true));
      }
    });
  }

  private void useOwnCase() {
    session.useOwnCase();
    caseChanged.accept(session);
  }

  /** Stops the worker (the window is closing). */
  void close() {
    worker.close();
  }
}
