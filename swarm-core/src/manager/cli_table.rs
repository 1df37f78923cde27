//! The docker CLI's table layout, for the tables the control handle renders (`node ls`,
//! `service ls`, `service ps`): every column but the last padded to its widest cell plus
//! [`COLUMN_PADDING`] spaces and at least [`MIN_COLUMN_WIDTH`], each line ending in a newline.

/// Narrowest column, padding included (the docker CLI's table writer: minimum width 10).
pub const MIN_COLUMN_WIDTH: usize = 10;
/// Spaces after the widest cell of a column (the docker CLI's table writer: padding 3).
pub const COLUMN_PADDING: usize = 3;

/// Renders `rows` (the header first; every row as long as the header) as the docker CLI's
/// table writer does. Widths count characters.
pub(crate) fn render_table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let mut widths = vec![MIN_COLUMN_WIDTH; columns.saturating_sub(1)];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count() + COLUMN_PADDING);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (cell, width) in row.iter().zip(widths.iter()) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        if let Some(last) = row.get(columns.saturating_sub(1)) {
            out.push_str(last);
        }
        out.push('\n');
    }
    out
}
