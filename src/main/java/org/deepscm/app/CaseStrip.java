package org.deepscm.app;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.scene.Node;
import javafx.scene.control.Button;
import javafx.scene.control.Label;
import javafx.scene.control.Tooltip;
import javafx.scene.image.ImageView;
import javafx.scene.layout.FlowPane;
import javafx.scene.layout.HBox;
import javafx.scene.layout.VBox;
import java.util.ArrayList;
import java.util.List;

/**
 * Pages of test cases to pick from ({@link CaseSource}: Morpho-MNIST digits, or brain subjects). The
 * Morpho-MNIST test split is stored class by class, so the cases are shown in a seeded order that
 * takes one digit of each class in turn: a page of 20 holds two of every class (brain subjects: women
 * and men of every age decade in turn). Pages are rendered off the UI thread; only the page last asked
 * for is shown.
 */
final class CaseStrip {
  static final int PAGE_SIZE = 20;
  // the first page comes by itself, a case at a time on one core (a brain subject takes about 0.15 s, so
  // that a drag that starts meanwhile has the other core), each once the explorer has been free of the user
  // this long (looked at this often); a page the user asks for is rendered at once, on every core
  private static final long QUIET_NANOS = 1_000_000_000L;
  private static final long LOOK_NANOS = 20_000_000L;

  /** A test case picked by the user. */
  interface Pick {
    void pick(CaseSource.Case picked);
  }

  private final CaseSource source;
  private final int[] order;
  // its own worker: a page being rendered must not replace a pending counterfactual
  private final LatestOnlyExecutor renderer;
  private final Consumer<Runnable> ui;
  private final Pick onPick;
  // true while the user drags a slider or the model answers: rendering waits (see showFirstPage)
  private final BooleanSupplier interacting;
  private final FlowPane thumbnails = new FlowPane(6, 6);
  private final Button previous = new Button("<");
  private final Button next = new Button(">");
  private final Label range = new Label();
  private final VBox root;
  private int requestedPage = -1;
  private int shownPage = -1;
  private int[] shownUnits = new int[0];

  /**
   * A strip with no page yet: {@link #showFirstPage} renders the first (on {@code renderer}).
   *
   * @param ui posts work to the UI thread
   */
  CaseStrip(CaseSource source, LatestOnlyExecutor renderer, Consumer<Runnable> ui, Pick onPick) {
    this(source, renderer, ui, onPick, () -> false);
  }

  /**
   * As above; the first page, which comes by itself, is rendered a case at a time, each once
   * {@code interacting} has said for a second that the user leaves the explorer alone (a brain subject
   * takes a core for a tenth of a second or more, which a dragged slider would feel).
   */
  CaseStrip(CaseSource source, LatestOnlyExecutor renderer, Consumer<Runnable> ui, Pick onPick,
      BooleanSupplier interacting) {
    this.interacting = interacting;
    this.source = source;
    this.order = source.order();
    this.renderer = renderer;
    this.ui = ui;
    this.onPick = onPick;
    thumbnails.setId("cases");
    previous.setId("cases-previous");
    next.setId("cases-next");
    range.setId("cases-range");
    describe(previous, "Previous " + PAGE_SIZE + " test cases");
    describe(next, "Next " + PAGE_SIZE + " test cases");
    previous.setOnAction(e -> request(requestedPage - 1, false));
    next.setOnAction(e -> request(requestedPage + 1, false));
    HBox header = new HBox(6, new Label("Test cases (click one):"), previous, range, next);
    header.setAlignment(Pos.CENTER_LEFT);
    root = new VBox(2, header, thumbnails);
    root.setPadding(new Insets(6));
  }

  /**
   * Renders the first page unless a page was already asked for, a case at a time while the user leaves
   * the explorer alone. The explorer calls it once its first counterfactual is on screen: rendering twenty
   * subjects takes both cores for a second or more, and beside the first answer it delays that answer.
   */
  void showFirstPage() {
    if (requestedPage < 0) {
      request(0, true);
    }
  }

  Node root() {
    return root;
  }

  /** The first case of the first page, rendered at once: the case a model opens on. */
  CaseSource.Case firstCase() {
    return source.render(new int[] {order[0]}).get(0);
  }

  /** The test units (indices into the test split) of a page, in the order shown. */
  int[] unitsOf(int page) {
    return Arrays.copyOfRange(order, page * PAGE_SIZE, Math.min(order.length, (page + 1) * PAGE_SIZE));
  }

  /** The page on screen (0 first; -1 before the first one is rendered). */
  int shownPage() {
    return shownPage;
  }

  /** The test units on screen. */
  int[] shownUnits() {
    return shownUnits.clone();
  }

  private int pages() {
    return (order.length + PAGE_SIZE - 1) / PAGE_SIZE;
  }

  /**
   * Renders a page. One the explorer shows by itself ({@code whenIdle}) is rendered a case at a time, each
   * once the user has left the explorer alone for a second; one the user asked for, at once.
   */
  private void request(int page, boolean whenIdle) {
    requestedPage = page;
    int[] units = unitsOf(page);
    range.setText(String.format(Locale.ROOT, "cases %d-%d of %d", page * PAGE_SIZE + 1,
        page * PAGE_SIZE + units.length, order.length));
    previous.setDisable(page == 0);
    next.setDisable(page == pages() - 1);
    // the old page stays visible but cannot be picked until the new one arrives
    thumbnails.setDisable(true);
    renderer.submit(superseded -> {
      try {
        List<CaseSource.Case> cases = new ArrayList<>();
        // (a renderer on the calling thread, in tests, must not wait: it would wait on the UI thread)
        boolean wait = whenIdle && !renderer.runsInline();
        int chunk = wait ? 1 : units.length;
        // the explorer free for a while first (between two slider events it is free for a few ms only)
        long freeSince = System.nanoTime();
        for (int from = 0; from < units.length; from += chunk) {
          while (wait && !superseded.getAsBoolean()) {
            if (interacting.getAsBoolean()) {
              freeSince = System.nanoTime();
            } else if (System.nanoTime() - freeSince >= QUIET_NANOS) {
              break;
            }
            LockSupport.parkNanos(LOOK_NANOS);
          }
          if (superseded.getAsBoolean()) {
            // the user moved on to another page: that one is rendered next
            return;
          }
          cases.addAll(source.render(Arrays.copyOfRange(units, from, Math.min(units.length, from + chunk))));
        }
        ui.accept(() -> {
          // a page asked for before the user moved on is stale
          if (page == requestedPage) {
            show(page, units, cases);
          }
        });
      } catch (RuntimeException e) {
        ui.accept(() -> range.setText("cannot render the test cases: " + e.getMessage()));
      }
    });
  }

  private void show(int page, int[] units, List<CaseSource.Case> cases) {
    Node[] thumbs = new Node[units.length];
    for (int k = 0; k < units.length; k++) {
      CaseSource.Case c = cases.get(k);
      ImageView image = new ImageView(ImageRendering.grey(c.image(), c.height(), c.width()));
      image.setSmooth(false);
      image.setFitWidth(56);
      image.setPreserveRatio(true);
      // a button: focusable and pressable from the keyboard, with a tooltip screen readers read too
      Button thumb = new Button(null, image);
      thumb.setPadding(new Insets(1));
      thumb.setId("case-" + k);
      describe(thumb, c.description());
      thumb.setOnAction(e -> onPick.pick(c));
      thumbs[k] = thumb;
    }
    thumbnails.getChildren().setAll(thumbs);
    thumbnails.setDisable(false);
    shownPage = page;
    shownUnits = units;
  }

  private static void describe(Button b, String text) {
    b.setTooltip(new Tooltip(text));
    b.setAccessibleText(text);
  }
}
