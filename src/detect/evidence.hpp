// Evidence for "involuntary or voluntary": the measures of one finished activation, each a number,
// and the weights that turn them into a confidence (a logistic model: confidence =
// 1 / (1 + exp(-sum weight_i * evidence_i))).
//
// The first group are the detector's rules (DETECTOR.md): each is 1 when the rule applies, or a
// bounded measure. The second group are plain measures. The default weights are fitted by
// tools/train_detector.py to simulated days (development seeds only, never the held-out ones);
// src/detect/evidence_weights.inc holds them and says how they were made. Every weight can be
// overridden by name (`w_<name>`, e.g. --detector w_onset_jolt=-4), like any threshold.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <string_view>

namespace spasmwatch::detect {

// X(name, hand-set weight): the hand-set weights are the rules' weights before fitting (kept so
// the fitted model can be compared with them, and as the starting point of the fit).
#define SPASMWATCH_EVIDENCE(X)                                                                    \
  X(bias, 0.5)              /* 1 */                                                              \
  X(log_snr, 1.0)           /* log(SNR/4), clamped to +-1.5 */                                   \
  X(rise, 1.0)              /* onset sharpness: +1 sharp ... -1.5 slow; 0 when not measurable */ \
  X(move_big, -4.0)         /* movement during the event over what went on before > 0.1 g */    \
  X(move_some, -3.5)        /* > 0.04 g, or a brief one > 0.2 g */                               \
  X(posture_changed, -2.5)  /* posture changed during the event */                              \
  X(active_brief, -1.5)     /* awake and active, not sustained, not above the task */           \
  X(active_twitch, -1.5)    /* awake and active, twitch-length, not above the task */           \
  X(asleep, 0.5)            /* context asleep */                                                 \
  X(still_body, 0.5)        /* body still before and during, not a task burst */                \
  X(rhythmic, -3.0)         /* a steady series of activations before it (steps, chewing) */     \
  X(fill_very_low, -4.0)    /* >= 0.5 s, fill < 0.4: separate bursts run together */            \
  X(fill_low, -2.5)         /* >= 0.5 s, fill < min_fill */                                       \
  X(clonus, 1.5)            /* classed clonus (3-8 Hz envelope rhythm) */                        \
  X(onset_jolt, -4.0)       /* still limb moving far more than this contraction can jolt it */  \
  X(moving_short, -3.0)     /* short burst (or, lying, below a cramp) while already moving */   \
  X(task_burst, -2.5)       /* inside a task, not above its bursts, not outlasting them */       \
  X(tail, -5.0)             /* the fading tail of the previous contraction */                    \
  X(tone, -5.0)             /* a long raised resting tone */                                     \
  X(log_duration, 0.0)      /* log(duration / 1 s) */                                            \
  X(fill, 0.0)              /* fraction of the event near its level */                           \
  X(rise_s, 0.0)            /* measured 10-90% rise in s (0.2 at most; 0 when not measurable) */ \
  X(movement_excess, 0.0)   /* g, mean movement during over before, clamped to [-0.5, 1] */     \
  X(movement_before, 0.0)   /* g, movement before the onset, clamped to [0, 1] */                \
  X(jolt_ratio, 0.0)        /* onset movement / (onset_jolt_g sqrt(SNR)), clamped to [-2, 4] */ \
  X(task, 0.0)              /* a voluntary task was going on at the onset */                     \
  X(task_ratio, 0.0)        /* in a task: log(SNR / the task's typical burst), clamped +-3 */    \
  X(active, 0.0)            /* context active */                                                 \
  X(lying, 0.0)             /* lying at the onset */                                             \
  X(walking, 0.0)           /* gait at the onset, or a steady series of activations */           \
  X(plateau, 0.0)           /* mean / peak envelope */                                           \
  X(twitch, 0.0)            /* classed twitch */                                                 \
  X(cramp, 0.0)             /* classed cramp */                                                  \
  X(sustained, 0.0)         /* sustained (>= 0.6 s at min_fill) or outlasting the gait */        \
  X(above_task, 0.0)        /* in a task and above its bursts */                                 \
  X(outlasts_task, 0.0)     /* in a task and outlasting its bursts */                            \
  X(jaw, 0.0)               /* at the jaw (bruxism scoring) */                                   \
  X(jolt_in_task, 0.0)      /* onset_jolt inside a task (chores move the limb all the time) */  \
  X(move_in_task, 0.0)      /* move_big or move_some inside a task */                             \
  X(clonus_in_task, 0.0)    /* classed clonus inside a task (typing has a rhythm too) */        \
  X(trimmed, 0.0)           /* cut out of a longer run of activity (weak lead-in or trail) */    \
  X(trunk, 0.0)             /* neck, shoulder or back: heartbeats bleed into the EMG there */   \
  X(trunk_log_snr, 0.0)     /* log_snr at a trunk site (a weak blip there may be ECG residue) */ \
  X(trimmed_at_rest, 0.0)   /* trimmed, with no task and not active (shifting in the seat) */   \
  X(trimmed_no_rise, 0.0)   /* trimmed, and no measurable onset rise */                          \
  X(rhythmic_in_task, 0.0)  /* rhythmic inside a task (keystrokes, steps) */                    \
  X(gappy, 0.0)             /* log(duration / 0.5 s) x (1 - fill): a long run of separate bursts \
                               (0 for clonus and phasic jaw episodes, bursty by nature) */  \
  X(tremor_share, 0.0)      /* share of the movement power in 3-8 Hz during the event (0-1.5) */\
  X(tremor_g, 0.0)          /* g, RMS of the 3-8 Hz movement during the event (0.5 at most) */  \
  X(clonus_tremor, 0.0)     /* tremor_share of an event classed clonus (clonus shakes the limb) */\
  X(jolt_near, 0.0)         /* still limb, no task, not clonus: onset movement 0.7-1 of the jolt \
                               this contraction can give, as 0-1 (onset_jolt graded below 1) */   \
  X(restless, 0.0)          /* still context: log(movement before / 5 mg), clamped to [0, 3] */ \
  X(sway_share, 0.0)        /* share of the movement power in 0.5-3 Hz during the event (0-1.5) */\
  X(sway_g, 0.0)            /* g, RMS of the 0.5-3 Hz movement during the event (0.5 at most) */ \
  X(sway_at_rest, 0.0)      /* still context: sway_share (the body moving itself, smoothly) */  \
  X(level_after, 0.0)       /* log(envelope at the end / resting level before), clamped [0, 3]: \
                               a tone that stays raised (sitting up to type) */                 \
  X(clonus_shake, 0.0)      /* classed clonus: log(tremor_g / 3 mg), clamped to [0, 3]: the limb \
                               shakes beyond a still accelerometer's noise */

enum class Evidence : std::size_t {
#define SPASMWATCH_EVIDENCE_ENUM(name, weight) name,
  SPASMWATCH_EVIDENCE(SPASMWATCH_EVIDENCE_ENUM)
#undef SPASMWATCH_EVIDENCE_ENUM
      count
};

inline constexpr std::size_t kEvidenceCount = static_cast<std::size_t>(Evidence::count);
using EvidenceVector = std::array<double, kEvidenceCount>;

inline constexpr std::array<std::string_view, kEvidenceCount> kEvidenceNames{
#define SPASMWATCH_EVIDENCE_NAME(name, weight) #name,
    SPASMWATCH_EVIDENCE(SPASMWATCH_EVIDENCE_NAME)
#undef SPASMWATCH_EVIDENCE_NAME
};

inline constexpr EvidenceVector kHandWeights{
#define SPASMWATCH_EVIDENCE_WEIGHT(name, weight) weight,
    SPASMWATCH_EVIDENCE(SPASMWATCH_EVIDENCE_WEIGHT)
#undef SPASMWATCH_EVIDENCE_WEIGHT
};

// The fitted weights, in the order above (generated by tools/train_detector.py).
namespace detail {
inline constexpr double kFittedWeightTable[] = {
#include "detect/evidence_weights.inc"
};
static_assert(std::size(kFittedWeightTable) == kEvidenceCount,
              "evidence_weights.inc does not match the evidence list: run tools/train_detector.py");
}  // namespace detail
inline constexpr EvidenceVector kFittedWeights = [] {
  EvidenceVector w{};
  for (std::size_t i = 0; i < kEvidenceCount; ++i) w[i] = detail::kFittedWeightTable[i];
  return w;
}();

// Logistic confidence in [0, 1].
[[nodiscard]] double evidence_confidence(const EvidenceVector& evidence, const EvidenceVector& weights);

}  // namespace spasmwatch::detect
