//! `show stat typed`: `<F|B|S>.<iid>.<sid>.<field>.<name>.1:<tags>:<type>:<value>`
//! per non-empty cell.

use super::rows::{Cell, Row, RowKind};
use crate::stats::names::{STAT_FIELDS, col};

/// Writes the typed lines of one row.
pub fn write(out: &mut String, row: &Row<'_>) {
    let kind = match row.kind {
        RowKind::Frontend => 'F',
        RowKind::Backend => 'B',
        RowKind::Server => 'S',
    };
    for (i, cell) in row.cells.iter().enumerate() {
        let value = match cell {
            Cell::Empty => continue,
            Cell::U(v) => v.to_string(),
            Cell::I(v) => v.to_string(),
            Cell::S(s) => s.to_string(),
        };
        // The `-` separator column is not a field: the per-module fields
        // after it are numbered from 103 on.
        if i == col::SEP {
            continue;
        }
        let field = if i > col::SEP { i - 1 } else { i };
        let (mut tags, ty) = TYPED[field];
        if row.kind == RowKind::Backend {
            tags = match i {
                col::ACT | col::BCK | col::RATE | col::RATE_MAX => "MGP",
                _ => tags,
            };
        }
        out.push_str(&format!(
            "{kind}.{}.{}.{field}.{}.1:{tags}:{ty}:{value}\n",
            row.iid, row.sid, STAT_FIELDS[i]
        ));
    }
}

/// `(tags, type)` of each typed field (CSV columns without the `-`
/// separator; frontend and server rows; backend rows differ for `act`,
/// `bck`, `rate`, `rate_max`). The last entry is unused.
pub const TYPED: [(&str, &str); 128] = [
    ("KNS", "str"), // 0
    ("KNS", "str"), // 1
    ("MGP", "u32"), // 2
    ("MMP", "u32"), // 3
    ("MGP", "u32"), // 4
    ("MMP", "u32"), // 5
    ("CLP", "u32"), // 6
    ("MCP", "u64"), // 7
    ("MCP", "u64"), // 8
    ("MCP", "u64"), // 9
    ("MCP", "u64"), // 10
    ("MCP", "u64"), // 11
    ("MCP", "u64"), // 12
    ("MCP", "u64"), // 13
    ("MCP", "u64"), // 14
    ("MCP", "u64"), // 15
    ("MCP", "u64"), // 16
    ("SGP", "str"), // 17
    ("MaP", "u32"), // 18
    ("SGP", "u32"), // 19
    ("SGP", "u32"), // 20
    ("MCP", "u64"), // 21
    ("MCP", "u64"), // 22
    ("MAP", "u32"), // 23
    ("MCP", "u32"), // 24
    ("MGP", "u32"), // 25
    ("KGP", "u32"), // 26
    ("KGS", "u32"), // 27
    ("KGS", "u32"), // 28
    ("MGP", "u32"), // 29
    ("MCP", "u64"), // 30
    ("MGP", "u32"), // 31
    ("CGS", "u32"), // 32
    ("MRP", "u32"), // 33
    ("CLP", "u32"), // 34
    ("MMP", "u32"), // 35
    ("MOP", "str"), // 36
    ("MOP", "u32"), // 37
    ("MDP", "u64"), // 38
    ("MCP", "u64"), // 39
    ("MCP", "u64"), // 40
    ("MCP", "u64"), // 41
    ("MCP", "u64"), // 42
    ("MCP", "u64"), // 43
    ("MCP", "u64"), // 44
    ("MGP", "u32"), // 45
    ("MRP", "u32"), // 46
    ("MMP", "u32"), // 47
    ("MCP", "u64"), // 48
    ("MCP", "u64"), // 49
    ("MCP", "u64"), // 50
    ("MCP", "u64"), // 51
    ("MCP", "u64"), // 52
    ("MCP", "u64"), // 53
    ("MCP", "u64"), // 54
    ("MAP", "s32"), // 55
    ("MOP", "str"), // 56
    ("MGP", "u32"), // 57
    ("MaP", "u32"), // 58
    ("MaP", "u32"), // 59
    ("MaP", "u32"), // 60
    ("MaP", "u32"), // 61
    ("MGP", "u32"), // 62
    ("MGP", "u32"), // 63
    ("MGP", "u32"), // 64
    ("MOP", "str"), // 65
    ("MGP", "u32"), // 66
    ("CGS", "u32"), // 67
    ("CGS", "u32"), // 68
    ("CGS", "u32"), // 69
    ("MGP", "u32"), // 70
    ("MGP", "u32"), // 71
    ("MGP", "u32"), // 72
    ("CGS", "str"), // 73
    ("MGP", "u32"), // 74
    ("CGS", "str"), // 75
    ("CGS", "str"), // 76
    ("MRP", "u32"), // 77
    ("MMP", "u32"), // 78
    ("MCP", "u64"), // 79
    ("MCP", "u64"), // 80
    ("MCP", "u64"), // 81
    ("MCP", "u64"), // 82
    ("MCP", "u64"), // 83
    ("MCP", "u64"), // 84
    ("MCP", "u64"), // 85
    ("MCP", "u64"), // 86
    ("MCP", "u64"), // 87
    ("MGP", "u32"), // 88
    ("MGP", "u32"), // 89
    ("MMP", "u32"), // 90
    ("MMP", "u32"), // 91
    ("MMP", "u32"), // 92
    ("MMP", "u32"), // 93
    ("MCP", "u64"), // 94
    ("MGP", "u32"), // 95
    ("MGP", "u32"), // 96
    ("MGP", "u32"), // 97
    ("MGP", "u32"), // 98
    ("MaP", "u32"), // 99
    ("MGP", "u32"), // 100
    ("MGP", "u32"), // 101
    ("MGP", "u32"), // 102
    ("MCP", "u64"), // 103
    ("MCP", "u64"), // 104
    ("MCP", "u64"), // 105
    ("MCP", "u64"), // 106
    ("MCP", "u64"), // 107
    ("MCP", "u64"), // 108
    ("MCP", "u64"), // 109
    ("MCP", "u64"), // 110
    ("MCP", "u64"), // 111
    ("MCP", "u64"), // 112
    ("MCP", "u64"), // 113
    ("MCP", "u64"), // 114
    ("MGP", "u64"), // 115
    ("MGP", "u64"), // 116
    ("MCP", "u64"), // 117
    ("MCP", "u64"), // 118
    ("MGP", "u64"), // 119
    ("MGP", "u64"), // 120
    ("MCP", "u64"), // 121
    ("MCP", "u64"), // 122
    ("MCP", "u64"), // 123
    ("MCP", "u64"), // 124
    ("MCP", "u64"), // 125
    ("MCP", "u64"), // 126
    ("MCP", "u64"), // 127
];
