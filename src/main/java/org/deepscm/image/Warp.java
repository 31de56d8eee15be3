package org.deepscm.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;

/**
 * Dense 2-D deformations for a deformation image mechanism (VoxelMorph-style: a template warped by
 * the exponential of a stationary velocity field), as plain differentiable functions on NDArrays. DJL's
 * PyTorch engine has no {@code grid_sample}, so bilinear sampling is built from {@code gather} on the
 * flattened pixel axis; libtorch's autograd differentiates it (gather's backward is a scatter-add).
 *
 * <p>Conventions. Arrays are batch-first. A field is a displacement in pixels, (N, 2, H, W): channel 0
 * moves along x (columns, width), channel 1 along y (rows, height). The map of displacement d is
 * phi(p) = p + d(p), p = (x, y) in pixel coordinates (x = column index, y = row index). Warping an
 * image I by phi is backward warping: (I o phi)(p) = I(p + d(p)), I read bilinearly. Functions work in
 * the arrays' own floating type (float32 for training; float64 also works, for checking gradients); an
 * image and a field used together must share it.
 *
 * <p>Results live in the manager of the first argument; intermediates stay in the managers of the arrays
 * they were made from, so call these inside a short-lived sub-manager (every caller in the project does);
 * arrays shared between threads (a template) are never moved between managers.
 */
public final class Warp {
  private Warp() {}

  // ------------------------------------------------------------------ sampling and composition

  /**
   * The image read at p + d(p) for every pixel p: (I o phi)(p), bilinear, (N, C, H, W). Out-of-image
   * points read the border (border padding): the sampling coordinate is clamped to [0, W - 1] x [0, H - 1]
   * first, so there the gradient with respect to the displacement is zero along the clamped axis. On
   * integer coordinates bilinear sampling has a kink and the gradient is one of the one-sided ones.
   * Gradients flow into both the image and the displacement.
   *
   * @param image (N, C, H, W)
   * @param displacement (N, 2, H, W), pixels; H and W at least 2
   */
  public static NDArray sample(NDArray image, NDArray displacement) {
    Shape is = image.getShape();
    checkField(displacement, "displacement");
    Shape ds = displacement.getShape();
    if (is.dimension() != 4 || is.get(0) != ds.get(0) || is.get(2) != ds.get(2) || is.get(3) != ds.get(3)) {
      throw new IllegalArgumentException("image " + is + " does not match displacement " + ds
          + ": need (N, C, H, W) and (N, 2, H, W)");
    }
    if (image.getDataType() != displacement.getDataType()) {
      throw new IllegalArgumentException("image is " + image.getDataType() + " but displacement is "
          + displacement.getDataType());
    }
    long n = is.get(0);
    long c = is.get(1);
    long h = is.get(2);
    long w = is.get(3);
    if (h < 2 || w < 2) {
      throw new IllegalArgumentException("sampling needs at least 2 x 2 pixels; got " + h + " x " + w);
    }
    return scoped(image, () -> {
      NDArray[] grid = grid(displacement, h, w);
      NDArray x = displacement.get(":, 0").add(grid[0]).clip(0, w - 1);
      NDArray y = displacement.get(":, 1").add(grid[1]).clip(0, h - 1);
      // the lower corner stops one short of the last pixel so the upper one is inside too: a point on the
      // last column is weight 1 on the upper corner (floor's gradient is zero; x carries it)
      NDArray x0 = x.floor().clip(0, w - 2);
      NDArray y0 = y.floor().clip(0, h - 2);
      NDArray fx = x.sub(x0).reshape(n, 1, h * w);
      NDArray fy = y.sub(y0).reshape(n, 1, h * w);
      NDArray gx = fx.neg().add(1);
      NDArray gy = fy.neg().add(1);
      Shape all = new Shape(n, c, h * w);
      NDArray i00 = y0.mul(w).add(x0).toType(DataType.INT64, false).reshape(n, 1, h * w).broadcast(all);
      NDArray flat = image.reshape(all);
      // weights as products, not a + f (b - a): weights 0 and 1 (integer shifts) then reproduce pixels exactly
      NDArray out = flat.gather(i00, 2).mul(gx.mul(gy));
      out = out.add(flat.gather(i00.add(1), 2).mul(fx.mul(gy)));
      out = out.add(flat.gather(i00.add(w), 2).mul(gx.mul(fy)));
      out = out.add(flat.gather(i00.add(w + 1), 2).mul(fx.mul(fy)));
      return out.reshape(is);
    });
  }

  /**
   * The displacement of phi_outer o phi_inner, the map p -> phi_outer(phi_inner(p)) (inner applied first):
   * phi_inner(p) + d_outer(phi_inner(p)), so d = d_inner + sample(d_outer, d_inner). Warping by the result
   * equals warping by outer, then by inner: I o (phi_outer o phi_inner) = (I o phi_outer) o phi_inner.
   */
  public static NDArray compose(NDArray outer, NDArray inner) {
    checkField(outer, "outer");
    if (!outer.getShape().equals(inner.getShape())) {
      throw new IllegalArgumentException("outer " + outer.getShape() + " and inner " + inner.getShape()
          + " differ");
    }
    return scoped(outer, () -> sample(outer, inner).add(inner));
  }

  /**
   * The displacement of exp(v), the map that carries every point along the stationary velocity v for unit
   * time, by scaling and squaring (VoxelMorph uses 7 steps): d = v / 2^steps (nearly exact for a small time
   * step), then {@code steps} times d = compose(d, d), since phi_{2t} = phi_t o phi_t. The result is a
   * diffeomorphism up to interpolation error, and exp(-v) is its inverse ({@link #identityError}).
   *
   * @param velocity (N, 2, H, W), pixels per unit time
   * @param steps number of squarings, 0 to 30
   */
  public static NDArray exp(NDArray velocity, int steps) {
    checkField(velocity, "velocity");
    if (steps < 0 || steps > 30) {
      throw new IllegalArgumentException("steps must be 0 to 30; got " + steps);
    }
    return scoped(velocity, () -> {
      NDArray d = velocity.div(1 << steps);
      for (int s = 0; s < steps; s++) {
        d = compose(d, d);
      }
      return d;
    });
  }

  /**
   * How far phi_inverse o phi_forward is from the identity, per pixel: |compose(inverse, forward)| in
   * pixels, (N, H, W). For forward = exp(v), inverse = exp(-v) it measures the scaling and squaring's
   * interpolation error (plus border padding near the edges: see the other overload). A measurement:
   * its gradient is undefined where the error is exactly 0.
   */
  public static NDArray identityError(NDArray forward, NDArray inverse) {
    return scoped(forward, () -> compose(inverse, forward).square().sum(new int[] {1}).sqrt());
  }

  /**
   * {@link #identityError(NDArray, NDArray)} without a border of {@code border} pixels on every side,
   * (N, H - 2 border, W - 2 border). Points that phi moves out of the image read the border there, so the
   * inverse cannot bring them back, and the squarings in {@link #exp} spread what border padding did a
   * little further in: a border a few pixels wider than the largest displacement leaves the
   * interpolation error alone.
   */
  public static NDArray identityError(NDArray forward, NDArray inverse, int border) {
    Shape s = forward.getShape();
    if (border < 0 || 2L * border >= s.get(2) || 2L * border >= s.get(3)) {
      throw new IllegalArgumentException("a border of " + border + " leaves nothing of " + s);
    }
    return scoped(forward, () -> identityError(forward, inverse)
        .get(":, " + border + ":" + (s.get(2) - border) + ", " + border + ":" + (s.get(3) - border)));
  }

  // ------------------------------------------------------------------ derivatives and penalties

  /**
   * det(I + grad d) per pixel, (N, H, W): how phi scales area there (below 0: folded). Derivatives by
   * central differences inside, one-sided at the border (as numpy.gradient), so a field linear in p gets
   * its exact determinant everywhere.
   */
  public static NDArray jacobianDeterminant(NDArray displacement) {
    checkField(displacement, "displacement");
    Shape s = displacement.getShape();
    if (s.get(2) < 2 || s.get(3) < 2) {
      throw new IllegalArgumentException("derivatives need at least 2 x 2 pixels; got " + s);
    }
    return scoped(displacement, () -> {
      NDArray dx = gradient(displacement, 3); // (N, 2, H, W): d d_x / dx, d d_y / dx
      NDArray dy = gradient(displacement, 2);
      NDArray a = dx.get(":, 0").add(1);
      NDArray b = dy.get(":, 0");
      NDArray c = dx.get(":, 1");
      NDArray e = dy.get(":, 1").add(1);
      return a.mul(e).sub(b.mul(c));
    });
  }

  /**
   * Bending energy, a scalar: mean(d_xx^2) + mean(d_yy^2) + 2 mean(d_xy^2) over the batch, both
   * components and the pixels where each difference is defined (second differences f(x+1) - 2 f(x) +
   * f(x-1); the mixed one f(x+1, y+1) - f(x, y+1) - f(x+1, y) + f(x, y)). Zero for any affine field
   * (translation, scaling, rotation, shear), so it penalises bending, not moving. H, W at least 3.
   */
  public static NDArray bendingEnergy(NDArray displacement) {
    checkField(displacement, "displacement");
    Shape s = displacement.getShape();
    if (s.get(2) < 3 || s.get(3) < 3) {
      throw new IllegalArgumentException("second differences need at least 3 x 3 pixels; got " + s);
    }
    return scoped(displacement, () -> {
      NDArray f = displacement;
      NDArray xx = f.get(":, :, :, 2:").sub(f.get(":, :, :, 1:-1").mul(2)).add(f.get(":, :, :, :-2"));
      NDArray yy = f.get(":, :, 2:, :").sub(f.get(":, :, 1:-1, :").mul(2)).add(f.get(":, :, :-2, :"));
      NDArray fx = f.get(":, :, :, 1:").sub(f.get(":, :, :, :-1"));
      NDArray xy = fx.get(":, :, 1:, :").sub(fx.get(":, :, :-1, :"));
      return xx.square().mean().add(yy.square().mean()).add(xy.square().mean().mul(2));
    });
  }

  /**
   * Smoothness penalty on first differences, a scalar: (mean(dx^2) + mean(dy^2)) / 2 with forward
   * differences along x and y over the batch and both components (VoxelMorph's Grad('l2')). Unlike
   * {@link #bendingEnergy} it is not zero for a scaling: for d = (s - 1)(p - c) it is (s - 1)^2 / 2.
   */
  public static NDArray gradientPenalty(NDArray displacement) {
    checkField(displacement, "displacement");
    return scoped(displacement, () -> {
      NDArray f = displacement;
      NDArray dx = f.get(":, :, :, 1:").sub(f.get(":, :, :, :-1"));
      NDArray dy = f.get(":, :, 1:, :").sub(f.get(":, :, :-1, :"));
      return dx.square().mean().add(dy.square().mean()).div(2);
    });
  }

  // ------------------------------------------------------------------ resizing

  /**
   * Bilinear resize of (N, C, h, w) to (N, C, H, W) with the corners aligned (PyTorch's
   * align_corners=True: output pixel i reads input coordinate i (h - 1) / (H - 1)), as two fixed
   * interpolation matrices, out = Ry f Rx^T with Ry (H x h) and Rx (W x w): two matMuls, differentiable.
   * The values are not rescaled: for a displacement use {@link #upsampleVelocity}.
   */
  public static NDArray upsample(NDArray field, int height, int width) {
    Shape s = field.getShape();
    if (s.dimension() != 4 || height < 1 || width < 1) {
      throw new IllegalArgumentException("need (N, C, h, w) and a positive size; got " + s + " to "
          + height + " x " + width);
    }
    return scoped(field, () -> {
      NDArray ry = interpolation(height, (int) s.get(2), field);
      NDArray rxT = interpolation(width, (int) s.get(3), field).transpose();
      return ry.matMul(field).matMul(rxT);
    });
  }

  /**
   * A velocity (or displacement) field given in coarse-grid pixels, (N, 2, h, w), upsampled to (N, 2, H, W)
   * in fine pixels: {@link #upsample}, then the x component times (W - 1) / (w - 1) and the y component
   * times (H - 1) / (h - 1), the fine pixels one coarse pixel spans when the corners are aligned. A coarse
   * translation by one coarse pixel is then a fine translation by that many fine pixels. h, w at least 2.
   */
  public static NDArray upsampleVelocity(NDArray velocity, int height, int width) {
    checkField(velocity, "velocity");
    Shape s = velocity.getShape();
    if (s.get(2) < 2 || s.get(3) < 2 || height < 2 || width < 2) {
      throw new IllegalArgumentException("rescaling needs at least 2 x 2 pixels on both grids; got " + s
          + " to " + height + " x " + width);
    }
    double sx = (width - 1.0) / (s.get(3) - 1.0);
    double sy = (height - 1.0) / (s.get(2) - 1.0);
    return scoped(velocity, () -> {
      NDArray scale = velocity.getManager().create(new double[] {sx, sy}, new Shape(1, 2, 1, 1))
          .toType(velocity.getDataType(), false).toDevice(velocity.getDevice(), false);
      return upsample(velocity, height, width).mul(scale);
    });
  }

  // ------------------------------------------------------------------ helpers

  /** Pixel coordinates {x (1, 1, W), y (1, H, 1)} in like's manager, type and device. */
  private static NDArray[] grid(NDArray like, long h, long w) {
    NDManager m = like.getManager();
    NDArray x = m.arange(0f, (float) w, 1f, like.getDataType(), like.getDevice()).reshape(1, 1, w);
    NDArray y = m.arange(0f, (float) h, 1f, like.getDataType(), like.getDevice()).reshape(1, h, 1);
    return new NDArray[] {x, y};
  }

  /**
   * Derivative of f (N, C, H, W) along axis 2 (y) or 3 (x) as numpy.gradient: (f(i+1) - f(i-1)) / 2 inside,
   * f(1) - f(0) and f(n-1) - f(n-2) at the ends.
   */
  private static NDArray gradient(NDArray f, int axis) {
    String pre = axis == 3 ? ":, :, :, " : ":, :, ";
    String post = axis == 3 ? "" : ", :";
    NDArray first = f.get(pre + "1:2" + post).sub(f.get(pre + "0:1" + post));
    NDArray last = f.get(pre + "-1:" + post).sub(f.get(pre + "-2:-1" + post));
    if (f.getShape().get(axis) == 2) {
      return first.concat(last, axis);
    }
    NDArray inside = f.get(pre + "2:" + post).sub(f.get(pre + ":-2" + post)).div(2);
    return first.concat(inside, axis).concat(last, axis);
  }

  /**
   * (out x in) linear interpolation matrix with the corners aligned: row i holds the two weights of input
   * coordinate i (in - 1) / (out - 1) (one output pixel: input 0; one input pixel: all ones).
   */
  private static NDArray interpolation(int out, int in, NDArray like) {
    double[] r = new double[out * in];
    for (int i = 0; i < out; i++) {
      double src = out == 1 ? 0 : i * (in - 1.0) / (out - 1.0);
      int lo = Math.min((int) Math.floor(src), Math.max(in - 2, 0));
      double f = src - lo;
      r[i * in + lo] += 1 - f;
      if (f > 0) {
        r[i * in + lo + 1] += f;
      }
    }
    return like.getManager().create(r, new Shape(out, in)).toType(like.getDataType(), false).toDevice(like.getDevice(),
        false);
  }

  private static void checkField(NDArray field, String name) {
    Shape s = field.getShape();
    if (s.dimension() != 4 || s.get(1) != 2) {
      throw new IllegalArgumentException(name + " must be (N, 2, H, W); got " + s);
    }
    if (!field.getDataType().isFloating()) {
      throw new IllegalArgumentException(name + " must be floating point; got " + field.getDataType());
    }
  }

  /**
   * body's result, in home's manager, everything else it made closed when it returns (or throws). The
   * result then belongs to the caller's own scope, if any, as if made there.
   */
  private static NDArray scoped(NDArray home, Supplier<NDArray> body) {
    // Intermediates stay in the managers of the arrays they were made from and are freed when the caller closes
    // them (every caller computes in a short-lived sub-manager): plain ownership, no thread-local scope.
    NDArray result = body.get();
    if (result.getManager() != home.getManager()) {
      result.attach(home.getManager());
    }
    return result;
  }
}
