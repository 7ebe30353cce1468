/* The byte layout of a .sbn file (docs/format.md): sizes, field offsets, section types, dtypes. The one C copy of
 * these numbers, for the reader (format.c), the fuzz target and mutator (fuzz/) and the C tests. The Python copy is
 * python/sparsebyte/sbnformat.py; tests/python/test_sbnformat.py checks the two agree.
 * Offsets of header fields are from the start of the file, entry fields from the start of their entry. */
#ifndef SB_SBN_LAYOUT_H
#define SB_SBN_LAYOUT_H

#define SBN_MAGIC "SBN\0" /* 53 42 4e 00 */
#define SBN_MAGIC_SIZE 4

/* Header (64 bytes) */
#define SBN_HEADER_SIZE 64
#define SBN_HDR_MAGIC 0           /* u8[4] */
#define SBN_HDR_VERSION_MAJOR 4   /* u16 */
#define SBN_HDR_VERSION_MINOR 6   /* u16 */
#define SBN_HDR_HEADER_SIZE 8     /* u32 */
#define SBN_HDR_SECTION_COUNT 12  /* u32 */
#define SBN_HDR_TABLE_OFFSET 16   /* u64 */
#define SBN_HDR_FILE_SIZE 24      /* u64 */
#define SBN_HDR_FLAGS 32          /* u32 */
#define SBN_HDR_TABLE_CRC 36      /* u32, CRC32 of the section table */
#define SBN_HDR_RESERVED 40       /* u8[20] */
#define SBN_HDR_CRC 60            /* u32, CRC32 of bytes 0..59 */
#define SBN_MAX_SECTIONS 64

/* Section table entry (32 bytes), at SBN_HEADER_SIZE + i * SBN_SECTION_ENTRY_SIZE */
#define SBN_SECTION_ENTRY_SIZE 32
#define SBN_SEC_TYPE 0      /* u32 */
#define SBN_SEC_FLAGS 4     /* u32 */
#define SBN_SEC_OFFSET 8    /* u64, multiple of SB_ALIGN */
#define SBN_SEC_SIZE 16     /* u64 */
#define SBN_SEC_CRC 24      /* u32 */
#define SBN_SEC_RESERVED 28 /* u32 */
#define SB_ALIGN 64         /* sections and constant data start at multiples of this (and load buffers are) */

enum {
  SBN_SECTION_STRINGS = 1,
  SBN_SECTION_TENSORS = 2,
  SBN_SECTION_NODES = 3,
  SBN_SECTION_NODE_IO = 4,
  SBN_SECTION_GRAPH = 5,
  SBN_SECTION_WEIGHTS = 6,
  SBN_SECTION_METADATA = 7,
  SBN_SECTION_TYPES = 7 /* highest type; 1..6 are required, METADATA is optional */
};

/* TENSORS, NODES and NODE_IO start with `u32 count, u32 reserved`; GRAPH with `u32 inputs, u32 outputs`. */
#define SBN_TABLE_HEADER_SIZE 8

/* Tensor entry (64 bytes) */
#define SBN_TENSOR_ENTRY_SIZE 64
#define SBN_TENSOR_NAME_OFFSET 0  /* u32, into STRINGS */
#define SBN_TENSOR_NAME_LENGTH 4  /* u32 */
#define SBN_TENSOR_DTYPE 8        /* u32 */
#define SBN_TENSOR_RANK 12        /* u32 */
#define SBN_TENSOR_DIMS 16        /* u32[6] */
#define SBN_TENSOR_FLAGS 40       /* u32 */
#define SBN_TENSOR_RESERVED 44    /* u32 */
#define SBN_TENSOR_DATA_OFFSET 48 /* u64, from the start of WEIGHTS */
#define SBN_TENSOR_DATA_SIZE 56   /* u64 */
#define SBN_TENSOR_FLAG_CONSTANT 1u

/* Node entry (128 bytes) */
#define SBN_NODE_ENTRY_SIZE 128
#define SBN_NODE_OP 0            /* u32 */
#define SBN_NODE_NAME_OFFSET 4   /* u32 */
#define SBN_NODE_NAME_LENGTH 8   /* u32 */
#define SBN_NODE_INPUT_COUNT 12  /* u32 */
#define SBN_NODE_OUTPUT_COUNT 16 /* u32 */
#define SBN_NODE_IO_START 20     /* u32, index into NODE_IO */
#define SBN_NODE_ACT_KIND 24     /* u32 */
#define SBN_NODE_ACT_PARAM0 28   /* f32 */
#define SBN_NODE_ACT_PARAM1 32   /* f32 */
#define SBN_NODE_RESERVED 36     /* u32 */
#define SBN_NODE_ATTRS 40        /* i32[SB_NUM_ATTRS] */
#define SB_NUM_ATTRS 22

#define SBN_MAX_NAME 255 /* bytes of a tensor or node name */

enum { SB_DTYPE_F32 = 1, SB_DTYPE_I32 = 2 };

#endif /* SB_SBN_LAYOUT_H */
