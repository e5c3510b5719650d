//===- ShareRopeTables.cpp - one cos/sin table for the ropes of a step ----===//
//
// A decoder step rotates the queries and keys of every layer at the same
// positions with the same frequencies: the angles, and their cos and sin,
// are the same for all of them. Each tern.rope computed them itself (2B4T:
// 64 sincosf calls per op, 60 ops a token, on the calling thread while the
// other threads wait for the next linear); one tern.rope_table per group
// of ropes computes them once.
//
//===----------------------------------------------------------------------===//

#include "ternc/Dialect/Tern/IR/TernOps.h"
#include "ternc/Dialect/Tern/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNSHAREROPETABLES
#include "ternc/Dialect/Tern/Transforms/Passes.h.inc"
} // namespace mlir::tern

using namespace mlir;
using namespace mlir::tern;

namespace {

/// What makes two ropes' angles the same: the block they are in, their
/// start value, row count, head_dim and theta (the bits of the float).
using RopeKey = std::tuple<Block *, Value, int64_t, int64_t, uint32_t>;

struct ShareRopeTablesPass
    : public tern::impl::TernShareRopeTablesBase<ShareRopeTablesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Groups in the order of their first rope (deterministic output).
    llvm::MapVector<RopeKey, SmallVector<RopeOp>> groups;
    func.walk([&](RopeOp rope) {
      int64_t rows = rope.getData().getType().getDimSize(0);
      // A dynamic row count could differ between two ropes.
      if (rope.getTable() || ShapedType::isDynamic(rows))
        return;
      auto theta = uint32_t(rope.getTheta().bitcastToAPInt().getZExtValue());
      groups[{rope->getBlock(), rope.getStart(), rows, rope.getHeadDim(),
              theta}]
          .push_back(rope);
    });
    for (auto &[key, ropes] : groups) {
      if (ropes.size() < 2)
        continue;
      // walk() visits a block's ops in order: the first dominates the rest,
      // and the start value dominates it.
      RopeOp first = ropes.front();
      OpBuilder b(first);
      const int64_t rows = std::get<2>(key), hd = first.getHeadDim();
      auto type = MemRefType::get({rows, hd / 2, 2}, b.getF32Type());
      // The buffer at the top of the function's entry block when the ropes
      // are in it (a static stack slot), else beside the table.
      Block &entry = func.getBody().front();
      if (first->getBlock() == &entry)
        b.setInsertionPointToStart(&entry);
      Value table = b.create<memref::AllocaOp>(first.getLoc(), type);
      b.setInsertionPoint(first);
      b.create<RopeTableOp>(first.getLoc(), first.getStart(), table,
                            first.getHeadDimAttr(), first.getThetaAttr());
      for (RopeOp rope : ropes)
        rope.getTableMutable().assign(table);
    }
  }
};

} // namespace
