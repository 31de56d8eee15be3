package org.deepscm.data.brain;

import java.util.Map;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.deepscm.scm.Intervention;

/**
 * The true causal world of the synthetic brain population, calibrated to UK Biobank's covariate
 * statistics (reference-implementation.md; equations and constants in resources/brain/README.md):
 *
 * <pre>
 *   sex s := 1[u_s &lt; P_MALE],                                     u_s ~ U(0, 1)      (0 female, 1 male)
 *   age a := 44 + 29 * BetaQuantile(u_a; 1.862, 1.2228),           u_a ~ U(0, 1)      (years, 44..73)
 *   brain volume b := exp(B0 + B_SEX (s - P_MALE) + B_AGE (a - A_MEAN) + B_SD u_b),  u_b ~ N(0, 1)  (ml)
 *   ventricle volume v := exp(V0 + V_AGE (a - A_MEAN) + V_BRAIN (ln b - B0) + V_SD u_v), u_v ~ N(0, 1)  (ml)
 *   image x := BrainSliceRenderer(b, v; anatomy noise)    (age and sex reach the image only through b and v)
 * </pre>
 *
 * Every variable is an invertible function of its noise given its parents (sex aside, whose noise is
 * kept as drawn), so each subject's true counterfactual under any do() is exact.
 */
public final class BrainTrueScm {
  public static final double P_MALE = 0.47;
  public static final double AGE_MIN = 44;
  public static final double AGE_SPAN = 29;
  public static final double AGE_BETA_A = 1.862;
  public static final double AGE_BETA_B = 1.2228;
  /** E[a] = 44 + 29 * 1.862 / 3.0848; the Beta parameters give ln a UK Biobank's log-mean and log-std exactly. */
  public static final double A_MEAN = AGE_MIN + AGE_SPAN * AGE_BETA_A / (AGE_BETA_A + AGE_BETA_B);
  /** ln ml: UK Biobank's log-mean 13.96558 ln mm3 less ln 1000. */
  public static final double B0 = 13.96558 - Math.log(1000);
  public static final double B_SEX = 0.10;
  public static final double B_AGE = -0.0035;
  public static final double B_SD = 0.07748;
  /** ln ml: UK Biobank's log-mean 10.34600 ln mm3 less ln 1000. */
  public static final double V0 = 10.34600 - Math.log(1000);
  public static final double V_AGE = 0.028;
  public static final double V_BRAIN = 1.0;
  public static final double V_SD = 0.38464;

  private static final BetaDistribution AGE = new BetaDistribution(null, AGE_BETA_A, AGE_BETA_B);
  private static final NormalDistribution STANDARD = new NormalDistribution(null, 0, 1);

  private BrainTrueScm() {}

  /** The exogenous noise of the four covariates. */
  public record Noise(double sex, double age, double brain, double ventricle) {}

  /** A subject's covariates: sex 0 (female) or 1 (male), age in years, volumes in ml. */
  public record Covariates(int sex, double age, double brainMl, double ventricleMl) {
    /** Sex and age decade in one code: the strata of samples, case strips and measurer checks. */
    public int stratum() {
      return sex * 10 + (int) (age / 10);
    }

    public double get(String name) {
      return switch (name) {
        case "sex" -> sex;
        case "age" -> age;
        case "brain_volume" -> brainMl;
        case "ventricle_volume" -> ventricleMl;
        default -> throw new IllegalArgumentException("no variable '" + name + "'; the brain SCM has "
            + String.join(", ", VARIABLES));
      };
    }
  }

  /** Variable names in topological order, as the CLI and CSV files spell them. */
  public static final String[] VARIABLES = {"sex", "age", "brain_volume", "ventricle_volume"};

  public static int sex(double uSex) {
    return uSex < P_MALE ? 1 : 0;
  }

  public static double age(double uAge) {
    return AGE_MIN + AGE_SPAN * AGE.inverseCumulativeProbability(uAge);
  }

  public static double brainMl(int sex, double age, double uBrain) {
    return Math.exp(B0 + B_SEX * (sex - P_MALE) + B_AGE * (age - A_MEAN) + B_SD * uBrain);
  }

  public static double ventricleMl(double age, double brainMl, double uVentricle) {
    return Math.exp(V0 + V_AGE * (age - A_MEAN) + V_BRAIN * (Math.log(brainMl) - B0) + V_SD * uVentricle);
  }

  public static Covariates covariates(Noise u) {
    int s = sex(u.sex());
    double a = age(u.age());
    double b = brainMl(s, a, u.brain());
    return new Covariates(s, a, b, ventricleMl(a, b, u.ventricle()));
  }

  /**
   * Abduction: the noise of age, brain and ventricle volume from observed covariates (exact, the
   * mechanisms are invertible); sex's noise is not identified by sex, so the given one is kept.
   */
  public static Noise abduct(Covariates c, double uSex) {
    double uAge = AGE.cumulativeProbability((c.age() - AGE_MIN) / AGE_SPAN);
    double uBrain = (Math.log(c.brainMl()) - B0 - B_SEX * (c.sex() - P_MALE) - B_AGE * (c.age() - A_MEAN)) / B_SD;
    double uVentricle = (Math.log(c.ventricleMl()) - V0 - V_AGE * (c.age() - A_MEAN)
        - V_BRAIN * (Math.log(c.brainMl()) - B0)) / V_SD;
    return new Noise(uSex, uAge, uBrain, uVentricle);
  }

  /**
   * The counterfactual covariates of a subject with noise u under interventions keyed by variable
   * name (sex, age, brain_volume, ventricle_volume): abduction (u is the subject's own), action,
   * prediction in topological order.
   */
  public static Covariates counterfactual(Noise u, Map<String, Intervention> interventions) {
    int s = (int) Math.round(apply(interventions.get("sex"), sex(u.sex())));
    if (s != 0 && s != 1) {
      throw new IllegalArgumentException("do(sex) takes 0 (female) or 1 (male), got " + s);
    }
    double a = apply(interventions.get("age"), age(u.age()));
    double b = apply(interventions.get("brain_volume"), brainMl(s, a, u.brain()));
    double v = apply(interventions.get("ventricle_volume"), ventricleMl(a, b, u.ventricle()));
    for (String name : interventions.keySet()) {
      if (!java.util.Arrays.asList(VARIABLES).contains(name)) {
        throw new IllegalArgumentException("cannot intervene on '" + name + "'; the brain SCM has "
            + String.join(", ", VARIABLES));
      }
    }
    if (!(b > 0) || !(v > 0)) {
      throw new IllegalArgumentException("volumes must be positive: brain " + b + " ml, ventricles " + v + " ml");
    }
    return new Covariates(s, a, b, v);
  }

  /** E[v | do(a)] in ml, exactly: ln v is Gaussian given a under do(a) (sex and u_b, u_v integrated out). */
  public static double interventionalVentricleMean(double age) {
    // ln v = V0 + V_AGE (a - A_MEAN) + V_BRAIN (B_SEX (s - P) + B_AGE (a - A_MEAN) + B_SD u_b) + V_SD u_v
    double mean = V0 + V_AGE * (age - A_MEAN) + V_BRAIN * B_AGE * (age - A_MEAN);
    double gaussVar = V_BRAIN * V_BRAIN * B_SD * B_SD + V_SD * V_SD;
    double sexTerm = P_MALE * Math.exp(V_BRAIN * B_SEX * (1 - P_MALE))
        + (1 - P_MALE) * Math.exp(V_BRAIN * B_SEX * (0 - P_MALE));
    return Math.exp(mean + gaussVar / 2) * sexTerm;
  }

  /** The standard normal quantile, for tests and samplers that map uniforms to Gaussian noise. */
  static double normalQuantile(double p) {
    return STANDARD.inverseCumulativeProbability(p);
  }

  private static double apply(Intervention action, double natural) {
    if (action == null) {
      return natural;
    }
    return action.apply(natural);
  }
}
