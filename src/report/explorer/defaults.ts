/** What the page and its script agree on: the choices that are not a built-in's name, and what the page opens with. */

/** The architecture select's values for the two choices that are not a plain built-in name. */
export const NB201_CHOICE = '#nb201';
export const PASTED_CHOICE = '#pasted';

export const DEFAULT_ARCHITECTURE = 'mobilenet_v2';
export const DEFAULT_PRESET = 'mobile-npu';

/** A cell of 3x3 convolutions and one skip: the cell field shows the syntax by example. */
export const DEFAULT_NB201_CELL = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';
