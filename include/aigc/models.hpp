/// @file
/// aigc's models room: the trainers and model builders, exports, the classifier. Includes every
/// header of include/aigc/models/.
#pragma once

#include "aigc/models/classifier.hpp"
#include "aigc/models/conv_vae.hpp"
#include "aigc/models/cvae.hpp"
#include "aigc/models/dcgan.hpp"
#include "aigc/models/export.hpp"
#include "aigc/models/gan.hpp"
#include "aigc/models/latent.hpp"
#include "aigc/models/step_value.hpp"
#include "aigc/models/vae.hpp"
