package org.deepscm.app;

import javafx.geometry.Insets;
import javafx.geometry.Pos;
import javafx.geometry.Rectangle2D;
import javafx.scene.Scene;
import javafx.scene.canvas.Canvas;
import javafx.scene.control.Label;
import javafx.scene.image.ImageView;
import javafx.scene.input.KeyCode;
import javafx.scene.layout.StackPane;
import javafx.scene.layout.VBox;
import javafx.stage.Screen;
import javafx.stage.Stage;
import javafx.stage.Window;

/**
 * One image panel of the explorer shown large in a window of its own (double-click a panel): the same picture,
 * following every new answer and the orientation toggle, at the largest whole zoom that fits most of the screen
 * (at least {@value #MIN_SIDE} px where the screen allows). Escape or closing the window ends it.
 */
final class LargeImageView {
  /** The large view's least side when the screen has room for it (a 1366 x 768 laptop has). */
  static final double MIN_SIDE = 256;

  private final Stage stage = new Stage();
  private final ImageView image = new ImageView();

  /**
   * @param source the panel's image view: its picture and mirroring are followed
   * @param outline a canvas the caller draws an overlay on (the counterfactual's outline), or null
   * @param onClose called when the window closes (the caller stops drawing on the outline)
   */
  LargeImageView(Window owner, String title, ImageView source, int imageHeight, int imageWidth, Canvas outline,
      Runnable onClose) {
    image.setId("large-image");
    image.setSmooth(false);
    image.setPreserveRatio(true);
    image.imageProperty().bind(source.imageProperty());
    image.scaleXProperty().bind(source.scaleXProperty());
    double zoom = zoomFor(Screen.getPrimary().getVisualBounds(), imageHeight, imageWidth);
    image.setFitWidth(imageWidth * zoom);
    StackPane picture = new StackPane(image);
    picture.setAlignment(Pos.TOP_LEFT);
    if (outline != null) {
      outline.setWidth(imageWidth * zoom);
      outline.setHeight(imageHeight * zoom);
      outline.scaleXProperty().bind(source.scaleXProperty());
      picture.getChildren().add(outline);
    }
    Label caption = new Label(title + " (" + fmtZoom(zoom) + "\u00d7; Esc closes)");
    caption.setId("large-caption");
    VBox box = new VBox(6, caption, picture);
    box.setPadding(new Insets(10));
    Scene scene = new Scene(box);
    scene.setOnKeyPressed(e -> {
      if (e.getCode() == KeyCode.ESCAPE) {
        stage.close();
      }
    });
    stage.setScene(scene);
    stage.setTitle(title);
    if (owner != null) {
      stage.initOwner(owner);
    }
    stage.setOnHidden(e -> {
      image.imageProperty().unbind();
      if (onClose != null) {
        onClose.run();
      }
    });
  }

  /**
   * The largest whole zoom at which the image fits 85 % of the screen's width and 75 % of its height (room for
   * the window's title and caption), at least the one that reaches {@link #MIN_SIDE} px.
   */
  static double zoomFor(Rectangle2D screen, int imageHeight, int imageWidth) {
    double fit = Math.min(0.85 * screen.getWidth() / imageWidth, (0.75 * screen.getHeight() - 40) / imageHeight);
    double least = Math.ceil(MIN_SIDE / Math.min(imageHeight, imageWidth));
    return Math.max(least, Math.floor(fit));
  }

  private static String fmtZoom(double z) {
    return z == Math.rint(z) ? String.valueOf((long) z) : String.valueOf(z);
  }

  void show() {
    stage.show();
  }

  Stage stage() {
    return stage;
  }

  ImageView image() {
    return image;
  }
}
