pub mod node_fast;
