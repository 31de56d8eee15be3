package org.deepscm.data;

/**
 * Colours for a quantity that runs from nothing to most (a counterfactual's spread over its particles): a
 * sequential colour map, lightness changing steadily from one end to the other. Heat (white, yellow, orange, red,
 * dark red; ColorBrewer's YlOrRd from white) keeps the difference map's "white: nothing"; viridis (van der Walt and
 * Smith, matplotlib's default) is made to read the same with every common colour vision deficiency and in grey print.
 */
public enum SequentialColours {
  HEAT("white none, dark red most", new int[] {0xffffff, 0xfed976, 0xfd8d3c, 0xe31a1c, 0x800026}),
  VIRIDIS("dark purple none, yellow most", new int[] {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725});

  private final String legend;
  private final int[] stops;

  SequentialColours(String legend, int[] stops) {
    this.legend = legend;
    this.stops = stops;
  }

  /** What the colours mean, in words. */
  public String legend() {
    return legend;
  }

  /** The colour (0xRRGGBB) at a fraction 0..1 of the way (clipped; NaN reads as 0). */
  public int at(double fraction) {
    double t = Double.isNaN(fraction) ? 0 : Math.max(0, Math.min(1, fraction));
    double pos = t * (stops.length - 1);
    int i = Math.min(stops.length - 2, (int) Math.floor(pos));
    double f = pos - i;
    int a = stops[i];
    int b = stops[i + 1];
    int r = (int) Math.round(((a >> 16) & 0xff) + f * (((b >> 16) & 0xff) - ((a >> 16) & 0xff)));
    int g = (int) Math.round(((a >> 8) & 0xff) + f * (((b >> 8) & 0xff) - ((a >> 8) & 0xff)));
    int bl = (int) Math.round((a & 0xff) + f * ((b & 0xff) - (a & 0xff)));
    return (r << 16) | (g << 8) | bl;
  }

  /** The colour (0xRRGGBB) of {@code value} on a scale from 0 to {@code range}. */
  public int rgb(double value, double range) {
    return at(range > 0 ? value / range : 0);
  }
}
