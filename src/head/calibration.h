// Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017): one scalar T > 0
// divides the head's logits, softmax(z / T), fitted to minimise the log loss of predictions on rows the head
// was not fitted on. It never changes which label wins, only how sure the head says it is.
#pragma once

#include <span>

namespace logclf::head {

// `logits` holds rows.size() rows of `classes` logits each; `labels` the true class of every row.
// Returns the T minimising the mean log loss of softmax(logits / T) (1 when there is nothing to fit).
double fit_temperature(std::span<const float> logits, std::span<const int> labels, int classes);

// Mean log loss of softmax(logits / temperature).
double log_loss(std::span<const float> logits, std::span<const int> labels, int classes, double temperature = 1.0);

}  // namespace logclf::head
