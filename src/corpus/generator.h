// The generator's declarations are public: see logclf/corpus.h.
#pragma once

#include "logclf/corpus.h"
