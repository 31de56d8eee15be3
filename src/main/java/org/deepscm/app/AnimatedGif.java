package org.deepscm.app;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** An animated GIF that loops forever, written with the JDK's own GIF writer (no library). */
final class AnimatedGif {
  private static final String FORMAT = "javax_imageio_gif_image_1.0";

  private AnimatedGif() {}

  /** Writes the frames, each shown for {@code frameMillis} (GIF counts hundredths of a second). */
  static void write(List<BufferedImage> frames, int frameMillis, Path file) throws IOException {
    if (frames.isEmpty()) {
      throw new IllegalArgumentException("an animation needs at least one frame");
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    Path tmp = file.resolveSibling(file.getFileName() + ".part");
    try (ImageOutputStream out = ImageIO.createImageOutputStream(Files.newOutputStream(tmp))) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      for (int k = 0; k < frames.size(); k++) {
        BufferedImage frame = frames.get(k);
        ImageWriteParam param = writer.getDefaultWriteParam();
        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), param);
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(FORMAT);
        IIOMetadataNode control = child(root, "GraphicControlExtension");
        control.setAttribute("disposalMethod", "none");
        control.setAttribute("userInputFlag", "FALSE");
        control.setAttribute("transparentColorFlag", "FALSE");
        control.setAttribute("delayTime", Integer.toString(Math.max(1, frameMillis / 10)));
        control.setAttribute("transparentColorIndex", "0");
        if (k == 0) {
          // the NETSCAPE2.0 extension: loop count 0, for ever
          IIOMetadataNode apps = child(root, "ApplicationExtensions");
          IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
          app.setAttribute("applicationID", "NETSCAPE");
          app.setAttribute("authenticationCode", "2.0");
          app.setUserObject(new byte[] {1, 0, 0});
          apps.appendChild(app);
        }
        meta.setFromTree(FORMAT, root);
        writer.writeToSequence(new IIOImage(frame, null, meta), param);
      }
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    // whole or not at all: a user's earlier file is replaced only by a complete one
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    for (int k = 0; k < root.getLength(); k++) {
      if (root.item(k).getNodeName().equalsIgnoreCase(name)) {
        return (IIOMetadataNode) root.item(k);
      }
    }
    IIOMetadataNode node = new IIOMetadataNode(name);
    root.appendChild(node);
    return node;
  }
}
